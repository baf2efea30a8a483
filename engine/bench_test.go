package engine_test

import (
	"context"
	"fmt"
	"io"
	"testing"

	"github.com/appwrite-dr/dr/engine"
	"github.com/appwrite-dr/dr/internal/teststack"
)

// BenchmarkExecStdout measures how fast a command's output streams out of
// a container, the path every database dump takes.
func BenchmarkExecStdout(b *testing.B) {
	s := shared.Get(b)
	c, err := engine.New(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	id := s.ContainerID(b, teststack.AppService)
	const size = 256 << 20
	b.SetBytes(size)
	for b.Loop() {
		res, err := c.Exec(context.Background(), id, engine.ExecOptions{
			Cmd:    []string{"sh", "-c", fmt.Sprintf("head -c %d /dev/zero", size)},
			Stdout: io.Discard,
		})
		if err != nil || res.ExitCode != 0 {
			b.Fatalf("exec: %v %+v", err, res)
		}
	}
}

// BenchmarkExecStdin measures streaming into a container, the path every
// database import takes.
func BenchmarkExecStdin(b *testing.B) {
	s := shared.Get(b)
	c, err := engine.New(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	id := s.ContainerID(b, teststack.AppService)
	const size = 256 << 20
	b.SetBytes(size)
	for b.Loop() {
		res, err := c.Exec(context.Background(), id, engine.ExecOptions{
			Cmd:   []string{"sh", "-c", "cat >/dev/null"},
			Stdin: io.LimitReader(zeros{}, size),
		})
		if err != nil || res.ExitCode != 0 {
			b.Fatalf("exec: %v %+v", err, res)
		}
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}
