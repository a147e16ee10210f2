package main

import (
	"debug/elf"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestVersionCommand: text and JSON name the version, commit, Go version
// and platform; another format is a usage error.
func TestVersionCommand(t *testing.T) {
	t.Parallel()
	t.Run("Text", func(t *testing.T) {
		out, err := runCLI(t, "version")
		require.NoError(t, err)
		assert.Regexp(t, `^capd `+version+`\n  commit   \S+\n  go       go1\.\S+\n  os/arch  `+runtime.GOOS+`/`+runtime.GOARCH+`$`, out)
		flag, err := runCLI(t, "--version")
		require.NoError(t, err)
		assert.Equal(t, out, flag, "capd --version prints the same")
	})
	t.Run("JSON", func(t *testing.T) {
		out, err := runCLI(t, "version", "--format", "json")
		require.NoError(t, err)
		var b buildInfo
		require.NoError(t, json.Unmarshal([]byte(out), &b))
		assert.Equal(t, buildInfo{Version: version, Commit: b.Commit, Go: runtime.Version(), OS: runtime.GOOS, Arch: runtime.GOARCH}, b)
		assert.NotEmpty(t, b.Commit)
	})
	t.Run("ErrFormat", func(t *testing.T) {
		_, err := runCLI(t, "version", "--format", "yaml")
		require.Error(t, err)
		assert.Equal(t, 2, exitCode(err))
		assert.Contains(t, err.Error(), "--format must be text or json")
	})
	t.Run("RunsWithABrokenConfiguration", func(t *testing.T) {
		// No t.Setenv here (the test is parallel): the file comes by flag.
		// An unknown key and a missing file fail every other command.
		path := filepath.Join(t.TempDir(), "capd.yaml")
		require.NoError(t, os.WriteFile(path, []byte("rate-limt: 5\n"), 0o600))
		for _, file := range []string{path, filepath.Join(t.TempDir(), "absent.yaml")} {
			_, err := runCLI(t, "tenants", "list", "--data", t.TempDir(), "--config", file)
			require.Error(t, err)
			out, err := runCLI(t, "version", "--config", file)
			require.NoError(t, err)
			assert.Contains(t, out, "capd "+version)
		}
	})
}

// TestDescribeBuild: a stamped commit wins; otherwise the toolchain's VCS
// record, marked -dirty for uncommitted changes; otherwise "unknown".
func TestDescribeBuild(t *testing.T) {
	t.Parallel()
	vcs := &debug.BuildInfo{Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "93c576e951f7"}, {Key: "vcs.modified", Value: "true"}}}
	clean := &debug.BuildInfo{Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "93c576e951f7"}, {Key: "vcs.modified", Value: "false"}}}
	assert.Equal(t, "abc123", describeBuild("1.0.0", "abc123", vcs).Commit)
	assert.Equal(t, "93c576e951f7-dirty", describeBuild("1.0.0", "", vcs).Commit)
	assert.Equal(t, "93c576e951f7", describeBuild("1.0.0", "", clean).Commit)
	assert.Equal(t, "unknown", describeBuild("1.0.0", "", &debug.BuildInfo{}).Commit)
	assert.Equal(t, "unknown", describeBuild("1.0.0", "", nil).Commit)
	assert.Equal(t, "1.0.0", describeBuild("1.0.0", "", nil).Version)
}

// TestReleaseBuild builds capd as make build does for a release (no cgo,
// stripped, version and commit stamped; -trimpath is left out, because it
// recompiles every package) and runs it: the stamps are reported, and on
// Linux the binary is static (no ELF interpreter, no shared libraries).
func TestReleaseBuild(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "capd")
	build := exec.Command("go", "build", "-o", bin, "-ldflags", "-s -w -X main.version=9.8.7-test -X main.commit=0123456789abcdef-dirty", ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "%s", out)

	out, err = exec.Command(bin, "version", "--format", "json").Output()
	require.NoError(t, err)
	var b buildInfo
	require.NoError(t, json.Unmarshal(out, &b), "%s", out)
	assert.Equal(t, buildInfo{Version: "9.8.7-test", Commit: "0123456789abcdef-dirty", Go: runtime.Version(), OS: runtime.GOOS, Arch: runtime.GOARCH}, b)
	out, err = exec.Command(bin, "--version").Output()
	require.NoError(t, err)
	assert.Contains(t, string(out), "capd 9.8.7-test\n")

	if runtime.GOOS != "linux" {
		return // static linking is a property of the ELF binaries checked below
	}
	f, err := elf.Open(bin)
	require.NoError(t, err)
	defer f.Close()
	for _, p := range f.Progs {
		assert.NotEqual(t, elf.PT_INTERP, p.Type, "a static binary names no dynamic loader")
	}
	libs, err := f.ImportedLibraries()
	require.NoError(t, err)
	assert.Empty(t, libs, "a static binary needs no shared library")
	assert.Nil(t, f.Section(".symtab"), "-s strips the symbol table")
}
