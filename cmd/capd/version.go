package main

import (
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// version is the capd release. make build stamps it with
// -ldflags "-X main.version=$(git describe --tags --always --dirty)".
var version = "0.1.0-dev"

// commit is the source revision the binary was built from. make build
// stamps it with -X main.commit; when it is empty, the revision the Go
// toolchain recorded from the checkout (vcs.revision) is reported instead.
var commit = ""

// buildInfo is what capd version reports.
type buildInfo struct {
	Version string `json:"version"`
	// Commit is the revision, with "-dirty" when the checkout had
	// uncommitted changes, or "unknown" (a go run, a go test binary, or a
	// build with -buildvcs=false from an unstamped tree).
	Commit string `json:"commit"`
	Go     string `json:"go"`
	OS     string `json:"os"`
	Arch   string `json:"arch"`
}

// currentBuild describes the running binary.
func currentBuild() buildInfo {
	bi, _ := debug.ReadBuildInfo()
	return describeBuild(version, commit, bi)
}

// describeBuild prefers a stamped commit to the toolchain's VCS record,
// because a build from a git worktree, a source archive or with
// GOFLAGS=-buildvcs=false has no VCS record at all.
func describeBuild(version, stamped string, bi *debug.BuildInfo) buildInfo {
	b := buildInfo{Version: version, Commit: stamped, Go: runtime.Version(), OS: runtime.GOOS, Arch: runtime.GOARCH}
	if b.Commit == "" && bi != nil {
		var modified bool
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				b.Commit = s.Value
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
		if b.Commit != "" && modified {
			b.Commit += "-dirty"
		}
	}
	if b.Commit == "" {
		b.Commit = "unknown"
	}
	return b
}

// text is the human form, also what capd --version prints.
func (b buildInfo) text() string {
	return fmt.Sprintf("capd %s\n  commit   %s\n  go       %s\n  os/arch  %s/%s\n", b.Version, b.Commit, b.Go, b.OS, b.Arch)
}

func newVersionCmd() *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print capd's version, source commit, Go version and platform",
		Args:  cobra.NoArgs,
		// The version must print whatever the environment or a config
		// file says, so that a broken configuration can still be reported
		// against a known build.
		Annotations: map[string]string{noSettingsAnnotation: "true"},
		RunE: func(cmd *cobra.Command, _ []string) error {
			return printVersion(cmd.OutOrStdout(), format)
		},
	}
	cmd.Flags().StringVar(&format, "format", "text", "output: text or json")
	return cmd
}

func printVersion(w io.Writer, format string) error {
	b := currentBuild()
	switch format {
	case "text":
		_, err := io.WriteString(w, b.text())
		return err
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(b)
	}
	return usageError("--format must be text or json, not %q", format)
}
