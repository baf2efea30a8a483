package backup

import (
	"context"
	"os"
	"testing"

	"github.com/appwrite-dr/dr/engine"
	"github.com/appwrite-dr/dr/internal/teststack"
)

// stack is the Appwrite-shaped test stack every integration test here
// shares; tests that change it put it back.
var stack = teststack.NewShared(teststack.Options{Name: "backup"})

func TestMain(m *testing.M) {
	// A child process of TestKilledBackupsStoppedServicesAreStartedByTheNext
	// runs one backup, to be killed, instead of the tests.
	if spec := os.Getenv(killedBackupEnv); spec != "" {
		os.Exit(runKilledBackupChild(spec))
	}
	if spec := os.Getenv(killedCaptureEnv); spec != "" {
		os.Exit(runKilledCaptureChild(spec))
	}
	os.Exit(teststack.RunShared(m, stack, pgStack))
}

func newEngine(t *testing.T) *engine.Client {
	t.Helper()
	eng, err := engine.New(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	return eng
}
