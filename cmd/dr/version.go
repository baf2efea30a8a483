package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// Set at link time by the Makefile (-X main.version=… -X main.commit=…).
var (
	version = "dev"
	commit  = ""
)

// buildInfo reports the version, the commit (from the linker or from the
// VCS stamp Go records) and the Go version.
func buildInfo() (ver, rev, goVersion string) {
	ver, rev = version, commit
	if info, ok := debug.ReadBuildInfo(); ok {
		if ver == "dev" && info.Main.Version != "" && info.Main.Version != "(devel)" {
			ver = info.Main.Version
		}
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" && rev == "" {
				rev = s.Value
			}
		}
	}
	if rev == "" {
		rev = "unknown"
	}
	return ver, rev, runtime.Version()
}

func toolVersion() string {
	ver, _, _ := buildInfo()
	return "dr " + ver
}

func newVersionCommand(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print dr's version, commit and Go version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ver, rev, goVersion := buildInfo()
			fmt.Fprintf(a.out, "dr %s\ncommit %s\n%s %s/%s\n", ver, rev, goVersion, runtime.GOOS, runtime.GOARCH)
			return nil
		},
	}
}
