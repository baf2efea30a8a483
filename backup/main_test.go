package backup

import (
	"os"
	"testing"

	"github.com/appwrite-dr/dr/internal/teststack"
)

// stack is the Appwrite-shaped test stack every integration test here
// shares; tests that change it put it back.
var stack = teststack.NewShared(teststack.Options{Name: "backup"})

func TestMain(m *testing.M) { os.Exit(stack.Main(m)) }
