package main

import (
	"fmt"
	"os"
	"runtime/pprof"
)

// startCPUProfile profiles the rest of the process into path, for
// `go tool pprof`; the returned function stops it and closes the file.
func startCPUProfile(path string) (stop func() error, err error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("--cpuprofile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("--cpuprofile: starting the profile: %w", err)
	}
	return func() error {
		pprof.StopCPUProfile()
		if err := f.Close(); err != nil {
			return fmt.Errorf("--cpuprofile: writing %s: %w", path, err)
		}
		return nil
	}, nil
}
