package main

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
)

func init() {
	registerAs("version", newVersionCmd)
	configureRoot(func(root *cobra.Command) {
		info, _ := debug.ReadBuildInfo()
		root.Version = versionString(info)
		root.SetVersionTemplate("streamkit {{.Version}}\n")
	})
}

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version and VCS revision streamkit was built from",
		Long: `version prints the module version streamkit was built as and, when it was
built from a git checkout, the commit (revision), whether the tree had
uncommitted changes (modified) and the commit time, then the Go version
and platform. "streamkit --version" prints the same.

  go install github.com/streamkit-go/streamkit/cmd/streamkit@v1.2.3   ->  streamkit v1.2.3 (go1.26.8 linux/amd64)
  go build ./cmd/streamkit (in a checkout)  ->  streamkit v0.0.0-…+dirty revision 3f2a… modified 2026-12-06T11:47:00Z (go1.26.8 linux/amd64)

A build without module information says "(devel)".`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			info, _ := debug.ReadBuildInfo()
			fmt.Fprintln(cmd.OutOrStdout(), "streamkit", versionString(info))
			return nil
		},
	}
}

// versionString describes a build: the main module's version (a release
// tag, a pseudo-version Go derives from the checkout, or "(devel)"), the
// VCS revision, "modified" for a dirty tree and the commit time when the
// go command stamped them, and the toolchain.
func versionString(info *debug.BuildInfo) string {
	v := "(devel)"
	goVersion := runtime.Version()
	var rev, modified, when string
	if info != nil {
		if info.Main.Version != "" {
			v = info.Main.Version
		}
		if info.GoVersion != "" {
			goVersion = info.GoVersion
		}
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				modified = s.Value
			case "vcs.time":
				when = s.Value
			}
		}
	}
	parts := []string{v}
	if rev != "" {
		parts = append(parts, "revision "+rev)
		if modified == "true" {
			parts = append(parts, "modified")
		}
		if when != "" {
			parts = append(parts, when)
		}
	}
	parts = append(parts, fmt.Sprintf("(%s %s/%s)", goVersion, runtime.GOOS, runtime.GOARCH))
	return strings.Join(parts, " ")
}
