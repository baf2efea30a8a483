package mariadb

import (
	"os"
	"testing"

	"github.com/appwrite-dr/dr/internal/teststack"
)

// stack is the Appwrite-shaped test stack the tests here share.
var stack = teststack.NewShared(teststack.Options{Name: "mariadb", Services: []string{teststack.DBService}})

func TestMain(m *testing.M) { os.Exit(stack.Main(m)) }
