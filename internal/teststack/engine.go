package teststack

import (
	"context"
	"testing"

	"github.com/appwrite-dr/dr/engine"
)

// Engine is a client of the container engine, closed when the test ends.
func Engine(t testing.TB) *engine.Client {
	t.Helper()
	eng, err := engine.New(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	return eng
}
