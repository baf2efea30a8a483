package teststack

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
)

// Shared is one stack shared by the tests of a package: started by the
// first test that asks for it, removed after all of them. Tests that change
// it (stop a service, restore over it) put it back as they found it.
//
//	var stack = teststack.NewShared(teststack.Options{Name: "backup"})
//
//	func TestMain(m *testing.M) { os.Exit(stack.Main(m)) }
//
//	func TestSomething(t *testing.T) { s := stack.Get(t); … }
type Shared struct {
	opts  Options
	once  sync.Once
	stack *Stack
	err   error
}

// NewShared prepares a shared stack; nothing starts before Get.
func NewShared(opts Options) *Shared {
	return &Shared{opts: opts}
}

// Get returns the shared stack, starting it on first use. It skips (or
// fails, see Skip) without an engine; after a failed start every caller
// fails with the same error.
func (s *Shared) Get(t testing.TB) *Stack {
	t.Helper()
	Skip(t)
	s.once.Do(func() {
		dir, err := os.MkdirTemp("", "dr-stack-")
		if err != nil {
			s.err = fmt.Errorf("making stack directory: %w", err)
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), startTimeout+imageTimeout)
		defer cancel()
		s.stack, s.err = start(ctx, s.opts, dir)
		if s.stack != nil {
			s.stack.ownsDir = true
		} else {
			os.RemoveAll(dir)
		}
	})
	if s.err != nil {
		t.Fatalf("starting the shared test stack: %v", s.err)
	}
	return s.stack
}

// Main runs the package's tests, then removes the shared stack if one was
// started. Use it as os.Exit(shared.Main(m)) in TestMain.
func (s *Shared) Main(m *testing.M) int { return RunShared(m, s) }

// RunShared runs the tests, then removes every shared stack they started:
// a package with a MariaDB and a PostgreSQL stack calls it with both.
func RunShared(m *testing.M, shared ...*Shared) int {
	code := m.Run()
	for _, s := range shared {
		if s.stack == nil {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), downTimeout)
		err := s.stack.Down(ctx)
		cancel()
		if err != nil {
			fmt.Fprintf(os.Stderr, "teststack: removing the shared stack %s: %v\n", s.stack.Project, err)
			if code == 0 {
				code = 1
			}
		}
	}
	return code
}
