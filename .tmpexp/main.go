package main

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/docker/docker/client"
)

func main() {
	ctx := context.Background()
	c, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	if err != nil {
		panic(err)
	}
	id := os.Args[1]
	mode := os.Args[2]
	s := time.Now()
	rc, _, err := c.CopyFromContainer(ctx, id, "/v")
	if err != nil {
		panic(err)
	}
	var n int64
	if mode == "raw" {
		n, _ = io.Copy(io.Discard, rc)
	} else {
		tr := tar.NewReader(rc)
		buf := make([]byte, 1<<20)
		for {
			_, err := tr.Next()
			if err != nil {
				break
			}
			if mode == "sha" {
				h := sha256.New()
				m, _ := io.CopyBuffer(h, tr, buf)
				n += m
			} else {
				m, _ := io.CopyBuffer(io.Discard, tr, buf)
				n += m
			}
		}
	}
	fmt.Printf("%s: %d bytes in %v\n", mode, n, time.Since(s))
}
