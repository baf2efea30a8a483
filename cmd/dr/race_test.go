//go:build race

package main

// The test binary was built with -race: the dr binary built by the
// end-to-end test is too, so it reuses the packages the tests compiled.
func init() { buildFlags = append(buildFlags, "-race") }
