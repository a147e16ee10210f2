package main

import (
	"io"
	"os/exec"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// complete asks capd what to offer for args, as the shell scripts do
// (capd __complete ARGS... PARTIAL), and returns the offers without their
// descriptions and the directive line.
func complete(t *testing.T, args ...string) []string {
	t.Helper()
	out, err := runCLI(t, append([]string{cobra.ShellCompRequestCmd}, args...)...)
	require.NoError(t, err, out)
	var offers []string
	for _, line := range strings.Split(out, "\n") {
		if line == "" || strings.HasPrefix(line, ":") {
			continue
		}
		name, _, _ := strings.Cut(line, "\t")
		offers = append(offers, name)
	}
	return offers
}

// TestCompletionScripts: each shell's script is written, and bash accepts
// the bash script and registers it for capd.
func TestCompletionScripts(t *testing.T) {
	t.Parallel()
	for shell, marker := range map[string]string{
		"bash":       "__start_capd",
		"zsh":        "#compdef capd",
		"fish":       "complete -c capd",
		"powershell": "Register-ArgumentCompleter",
	} {
		out, err := runCLI(t, "completion", shell)
		require.NoError(t, err)
		assert.Contains(t, out, marker, shell)
	}
	bash, err := exec.LookPath("bash")
	require.NoError(t, err, "bash loads the completion script; .ci/run needs it too")
	script := exec.Command(bash, "--norc", "--noprofile", "-c", `source <("$0" completion bash) && complete -p capd`, capdBinary)
	out, err := script.CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.Contains(t, string(out), "-F __start_capd capd")
}

// TestCompletionOffers: subcommands, flags and flag values.
func TestCompletionOffers(t *testing.T) {
	f := newFixture(t)
	t.Run("Subcommands", func(t *testing.T) {
		offers := complete(t, "")
		for _, c := range []string{"serve", "stdio", "tenants", "keys", "version", "completion"} {
			assert.Contains(t, offers, c)
		}
		assert.Equal(t, []string{"serve", "sets", "staff", "stdio"}, complete(t, "s"))
	})
	t.Run("Flags", func(t *testing.T) {
		assert.Equal(t, []string{"--rate-burst", "--rate-limit"}, complete(t, "serve", "--rate-"))
	})
	t.Run("Formats", func(t *testing.T) {
		assert.Equal(t, []string{"table", "json", "junit"}, complete(t, "conformance", "run", "--format", ""))
		assert.Equal(t, []string{"text", "json"}, complete(t, "version", "--format", ""))
		assert.Equal(t, []string{"text", "json"}, complete(t, "sets", "show", "--format", ""))
		assert.Equal(t, []string{"happy", "rejection", "generated"}, complete(t, "conformance", "run", "--kind", ""))
		for _, cmd := range [][]string{{"serve"}, {"stdio"}, {"conformance", "run"}} {
			assert.Equal(t, []string{"dotted", "underscore"}, complete(t, append(cmd, "--tool-names", "")...), cmd)
		}
		for _, cmd := range []string{"serve", "stdio"} {
			assert.Equal(t, []string{"text", "json", "auto"}, complete(t, cmd, "--log-format", ""), cmd)
			assert.Equal(t, []string{"debug", "info", "warn", "error"}, complete(t, cmd, "--log-level", ""), cmd)
		}
	})
	t.Run("TenantSlugs", func(t *testing.T) {
		assert.Equal(t, []string{f.tenantA}, complete(t, "keys", "create", "--data", f.data, "--tenant", "sw"))
		assert.Contains(t, complete(t, "stdio", "--data", f.data, "--tenant", ""), f.tenantB)
		t.Setenv("CAPD_DATA", f.data) // the data directory from the environment, as the command would use
		assert.Contains(t, complete(t, "audit", "--tenant", ""), f.tenantB)
	})
	t.Run("NoTenantsWithoutAControlDatabase", func(t *testing.T) {
		dir := t.TempDir() + "/absent"
		assert.Empty(t, complete(t, "keys", "create", "--data", dir, "--tenant", ""))
		assert.NoDirExists(t, dir, "completion creates nothing")
	})
	t.Run("Capabilities", func(t *testing.T) {
		offers := complete(t, "capabilities", "show", "projects.create_t")
		assert.Contains(t, offers, "projects.create_task")
		assert.Contains(t, offers, "projects.create_task@0.1.0")
		assert.Contains(t, complete(t, "keys", "create", "--pin", "projects.get_t"), "projects.get_task@0.1.0")
		assert.Contains(t, complete(t, "conformance", "run", "--capability", "projects.list_ta"), "projects.list_tasks")
	})
	t.Run("Scopes", func(t *testing.T) {
		assert.Equal(t, []string{"projects.read,projects.write"}, complete(t, "keys", "create", "--scopes", "projects.read,"))
	})
}

// TestCompletionEveryFormatFlag: every --format flag offers its values, and
// so does every flag whose type lists its choices.
func TestCompletionEveryFormatFlag(t *testing.T) {
	t.Parallel()
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		c.LocalNonPersistentFlags().VisitAll(func(f *pflag.Flag) {
			if f.Name == "format" || strings.Contains(f.Value.Type(), "|") {
				_, ok := c.GetFlagCompletionFunc(f.Name)
				assert.True(t, ok, "%s --%s: add its values to formatValues, or name them in its type", c.CommandPath(), f.Name)
			}
		})
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(newRootCmd(io.Discard, io.Discard))
}
