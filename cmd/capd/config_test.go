package main

import (
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// clearSettingsEnvironment unsets every variable capd reads as a setting,
// and CAPD_CONFIG and CAPD_API_KEY, so that neither the commands tests run
// in-process nor the capd processes they start see a developer's own
// configuration. Other CAPD_ variables (CAPD_LOAD_DURATION, ...) are the
// tests' own knobs and stay.
func clearSettingsEnvironment() {
	names := []string{envName(configFlag), "CAPD_API_KEY"}
	for _, sc := range allSettings(newRootCmd(io.Discard, io.Discard)) {
		for _, f := range sc.flags {
			names = append(names, envName(f.Name))
		}
	}
	for _, n := range names {
		os.Unsetenv(n)
	}
}

// settle parses args (a command and its flags) as capd would and applies
// the settings from env and, when file is not empty, a config file
// capd.yaml holding it (named by CAPD_CONFIG).
func settle(t *testing.T, env map[string]string, file string, args ...string) (*cobra.Command, error) {
	t.Helper()
	root := newRootCmd(io.Discard, io.Discard)
	cmd, rest, err := root.Find(args)
	require.NoError(t, err)
	require.NoError(t, cmd.ParseFlags(rest))
	env = maps.Clone(env)
	if env == nil {
		env = map[string]string{}
	}
	if file != "" {
		path := filepath.Join(t.TempDir(), "capd.yaml")
		require.NoError(t, os.WriteFile(path, []byte(file), 0o600))
		env["CAPD_CONFIG"] = path
	}
	return cmd, applySettings(cmd, func(k string) string { return env[k] })
}

func flagValue(t *testing.T, cmd *cobra.Command, name string) string {
	t.Helper()
	f := cmd.Flag(name)
	require.NotNil(t, f, name)
	if sv, ok := f.Value.(pflag.SliceValue); ok {
		return strings.Join(sv.GetSlice(), "|")
	}
	return f.Value.String()
}

// TestSettingsPrecedence: the command line beats the environment, which
// beats the config file, which beats the default.
func TestSettingsPrecedence(t *testing.T) {
	t.Parallel()
	file := "rate-limit: 7\n"
	for _, c := range []struct {
		name string
		args []string
		env  map[string]string
		file string
		want string
	}{
		{"Default", []string{"serve"}, nil, "", "100"},
		{"File", []string{"serve"}, nil, file, "7"},
		{"EnvironmentOverFile", []string{"serve"}, map[string]string{"CAPD_RATE_LIMIT": "8"}, file, "8"},
		{"FlagOverEnvironment", []string{"serve", "--rate-limit", "9"}, map[string]string{"CAPD_RATE_LIMIT": "8"}, file, "9"},
		{"EmptyVariableIsUnset", []string{"serve"}, map[string]string{"CAPD_RATE_LIMIT": ""}, file, "7"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cmd, err := settle(t, c.env, c.file, c.args...)
			require.NoError(t, err)
			assert.Equal(t, c.want, flagValue(t, cmd, "rate-limit"))
		})
	}
}

// TestSettingsTypes: every kind of flag reads from the environment and the
// file as from the command line; lists are comma-separated in a variable
// and YAML lists (or a comma-separated string) in the file.
func TestSettingsTypes(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name, flag string
		args       []string
		env        map[string]string
		file       string
		want       string
	}{
		{"BoolFromEnvironment", "catalog-auth", []string{"serve"}, map[string]string{"CAPD_CATALOG_AUTH": "true"}, "", "true"},
		{"BoolFromFile", "catalog-auth", []string{"serve"}, nil, "catalog-auth: true\n", "true"},
		{"DurationFromEnvironment", "read-timeout", []string{"serve"}, map[string]string{"CAPD_READ_TIMEOUT": "90s"}, "", "1m30s"},
		{"DurationFromFile", "conformance-interval", []string{"serve"}, nil, "conformance-interval: 0s\n", "0s"},
		{"IntFromEnvironment", "max-open-tenants", []string{"serve"}, map[string]string{"CAPD_MAX_OPEN_TENANTS": "12"}, "", "12"},
		{"Int64FromFile", "max-body", []string{"serve"}, nil, "max-body: 2048\n", "2048"},
		{"FloatFromFile", "failed-auth-rate", []string{"serve"}, nil, "failed-auth-rate: 0.5\n", "0.5"},
		{"StringFromEnvironment", "addr", []string{"serve"}, map[string]string{"CAPD_ADDR": "0.0.0.0:9"}, "", "0.0.0.0:9"},
		{"SliceFromEnvironment", "allowed-origins", []string{"serve"}, map[string]string{"CAPD_ALLOWED_ORIGINS": "https://a.example, https://b.example"}, "", "https://a.example|https://b.example"},
		{"SliceFromFileList", "allowed-origins", []string{"serve"}, nil, "allowed-origins:\n  - https://a.example\n  - https://b.example\n", "https://a.example|https://b.example"},
		{"SliceFromFileString", "allowed-origins", []string{"serve"}, nil, "allowed-origins: https://a.example,https://b.example\n", "https://a.example|https://b.example"},
		{"ArrayFromEnvironmentQuoted", "key-rate-limit", []string{"serve"}, map[string]string{"CAPD_KEY_RATE_LIMIT": `abcd1234=5,"efgh5678=7"`}, "", "abcd1234=5|efgh5678=7"},
		{"ArrayFromFileList", "key-rate-limit", []string{"serve"}, nil, "key-rate-limit: [abcd1234=5, efgh5678=7]\n", "abcd1234=5|efgh5678=7"},
		{"FlagListBeatsEnvironmentList", "key-rate-limit", []string{"serve", "--key-rate-limit", "aaaa1111=1"}, map[string]string{"CAPD_KEY_RATE_LIMIT": "abcd1234=5"}, "", "aaaa1111=1"},
		{"StdioSet", "set", []string{"stdio"}, map[string]string{"CAPD_SET": "triage"}, "", "triage"},
		{"GlobalOnManagementCommand", "data", []string{"tenants", "list"}, map[string]string{"CAPD_DATA": "/srv/capd"}, "", "/srv/capd"},
		{"StoreFromFileOnManagementCommand", "store", []string{"keys", "create"}, nil, "store: sqlite:/srv/capd\n", "sqlite:/srv/capd"},
		{"ServeKeyIgnoredByStdio", "data", []string{"stdio"}, nil, "addr: 0.0.0.0:1\ndata: /srv/capd\n", "/srv/capd"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cmd, err := settle(t, c.env, c.file, c.args...)
			require.NoError(t, err)
			assert.Equal(t, c.want, flagValue(t, cmd, c.flag))
		})
	}

	t.Run("GCPercentFromEnvironmentCountsAsGiven", func(t *testing.T) {
		// serve lets GOGC win only over a --gc-percent nobody gave.
		cmd, err := settle(t, map[string]string{"CAPD_GC_PERCENT": "50"}, "", "serve")
		require.NoError(t, err)
		assert.True(t, cmd.Flags().Changed("gc-percent"))
		assert.Equal(t, "50", flagValue(t, cmd, "gc-percent"))
	})
}

// TestSettingsExclusions: flags that choose whom a command acts for, or
// that act rather than configure, and every flag of the management
// commands, are read only from the command line.
func TestSettingsExclusions(t *testing.T) {
	t.Parallel()
	env := map[string]string{"CAPD_TENANT": "acme", "CAPD_DEMO": "true", "CAPD_EMAIL": "a@acme.example", "CAPD_SCOPES": "projects.read", "CAPD_FORMAT": "json"}
	for _, c := range []struct {
		args []string
		flag string
		want string
	}{
		{[]string{"stdio"}, "tenant", ""},
		{[]string{"serve"}, "demo", "false"},
		{[]string{"keys", "create"}, "tenant", ""},
		{[]string{"keys", "create"}, "scopes", "projects.read,projects.write"},
		{[]string{"staff", "add"}, "email", ""},
		{[]string{"conformance", "run"}, "format", "table"},
	} {
		t.Run(strings.Join(c.args, "_")+"_"+c.flag, func(t *testing.T) {
			cmd, err := settle(t, env, "", c.args...)
			require.NoError(t, err)
			assert.Equal(t, c.want, flagValue(t, cmd, c.flag))
		})
	}
	t.Run("ManagementCommandsReadOnlyGlobals", func(t *testing.T) {
		root := newRootCmd(io.Discard, io.Discard)
		cmd, _, err := root.Find([]string{"keys", "create"})
		require.NoError(t, err)
		var names []string
		for _, f := range settingsOf(cmd) {
			names = append(names, f.Name)
		}
		assert.ElementsMatch(t, []string{"data", "store"}, names)
	})
}

// TestSettingsCoverEveryFlag: every flag of serve and stdio but the
// excluded ones is a setting, its help names its variable, and a flag
// added to the command after start-up is still read at run time.
func TestSettingsCoverEveryFlag(t *testing.T) {
	for name, excluded := range settableCommands {
		help, err := runCLI(t, name, "--help")
		require.NoError(t, err)
		root := newRootCmd(io.Discard, io.Discard)
		cmd, _, err := root.Find([]string{name})
		require.NoError(t, err)
		settings := map[string]bool{}
		for _, f := range settingsOf(cmd) {
			settings[f.Name] = true
		}
		cmd.LocalNonPersistentFlags().VisitAll(func(f *pflag.Flag) {
			if f.Name == "help" {
				return
			}
			if _, no := excluded[f.Name]; no {
				assert.False(t, settings[f.Name], "--%s of %s is excluded", f.Name, name)
				assert.Regexp(t, `--`+f.Name+`\b.*\(command line only\)`, help)
				return
			}
			assert.True(t, settings[f.Name], "--%s of %s is a setting", f.Name, name)
			assert.Regexp(t, `--`+f.Name+`\b.*\(env `+envName(f.Name)+`\)`, help, "capd %s --help names the variable", name)
		})
		for _, g := range []string{"data", "store", "config"} {
			assert.Contains(t, help, "(env "+envName(g)+")")
		}
	}

	t.Run("FlagAddedLater", func(t *testing.T) {
		root := newRootCmd(io.Discard, io.Discard)
		serve, _, err := root.Find([]string{"serve"})
		require.NoError(t, err)
		serve.Flags().Int("later-flag", 0, "a flag added after the tree was built")
		require.NoError(t, serve.ParseFlags(nil))
		getenv := func(k string) string { return map[string]string{"CAPD_LATER_FLAG": "3"}[k] }
		require.NoError(t, applySettings(serve, getenv))
		assert.Equal(t, "3", flagValue(t, serve, "later-flag"))
	})
}

// TestSettingNamesMeanOneThing: a config file key and a variable apply to
// every settable command with that flag, so a name two of them share must
// have one type and one default.
func TestSettingNamesMeanOneThing(t *testing.T) {
	t.Parallel()
	seen := map[string]*pflag.Flag{}
	for _, sc := range allSettings(newRootCmd(io.Discard, io.Discard)) {
		for _, f := range sc.flags {
			if prev, ok := seen[f.Name]; ok && prev != f {
				assert.Equal(t, prev.Value.Type(), f.Value.Type(), "--%s", f.Name)
				assert.Equal(t, prev.DefValue, f.DefValue, "--%s", f.Name)
			}
			seen[f.Name] = f
		}
	}
	assert.Greater(t, len(seen), 20)
}

// TestREADMEListsEverySetting: the README's list of variables is complete.
func TestREADMEListsEverySetting(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	for _, sc := range allSettings(newRootCmd(io.Discard, io.Discard)) {
		for _, f := range sc.flags {
			assert.True(t, strings.Contains(string(readme), "`"+envName(f.Name)+"`"), "README.md's Configuration section lists `%s`", envName(f.Name))
		}
	}
	for name, excluded := range settableCommands {
		for flag := range excluded {
			assert.True(t, strings.Contains(string(readme), "`--"+flag+"` of `capd "+name+"`"), "README.md names the excluded `--%s` of `capd %s`", flag, name)
		}
	}
}

// TestSettingsErrors: a value that does not parse, a key that is not a
// setting, a file that is not a mapping: each a usage error (exit 2)
// naming the variable, or the file, line and key.
func TestSettingsErrors(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name string
		args []string
		env  map[string]string
		file string
		want []string
	}{
		{"ErrNotANumber", nil, map[string]string{"CAPD_RATE_LIMIT": "abc"}, "", []string{`CAPD_RATE_LIMIT="abc": --rate-limit takes a number`}},
		{"ErrNotABool", nil, map[string]string{"CAPD_CATALOG_AUTH": "yes"}, "", []string{`CAPD_CATALOG_AUTH="yes": --catalog-auth takes true or false`}},
		{"ErrDurationWithoutUnit", nil, map[string]string{"CAPD_READ_TIMEOUT": "120"}, "", []string{`CAPD_READ_TIMEOUT="120": --read-timeout takes a duration such as 90s`}},
		{"ErrNotAWholeNumber", nil, map[string]string{"CAPD_MAX_OPEN_TENANTS": "1.5"}, "", []string{`CAPD_MAX_OPEN_TENANTS="1.5": --max-open-tenants takes a whole number`}},
		{"ErrBadList", nil, map[string]string{"CAPD_ALLOWED_ORIGINS": `"https://a.example`}, "", []string{`CAPD_ALLOWED_ORIGINS=`, "not a comma-separated list"}},
		{"OverriddenFileValueUnchecked", []string{"tenants", "list"}, map[string]string{"CAPD_DATA": "x"}, "data: [a, b]\n", nil}, // the environment wins; the file's value is never used
		{"ErrFileValue", nil, nil, "addr: 127.0.0.1:0\nrate-limit: abc\n", []string{"capd.yaml:2: rate-limit: --rate-limit takes a number"}},
		{"ErrFileListForOneValue", nil, nil, "addr: [a, b]\n", []string{"capd.yaml:1: addr: --addr takes one value, not a list"}},
		{"ErrFileMapping", nil, nil, "rate-limit: {per-key: 1}\n", []string{"capd.yaml:1: rate-limit: --rate-limit takes a plain value, not a mapping"}},
		{"ErrFileNull", nil, nil, "addr:\n", []string{"capd.yaml:1: addr: has no value"}},
		{"ErrFileAlias", nil, nil, "addr: &a 127.0.0.1:1\npprof: *a\n", []string{"capd.yaml:2: pprof: YAML aliases are not supported"}},
		{"ErrUnknownKey", nil, nil, "addr: 127.0.0.1:0\nrate-limt: 5\n", []string{"capd.yaml:2: rate-limt: unknown setting; did you mean rate-limit?"}},
		{"ErrUnknownKeyEnvironmentStyle", nil, nil, "CAPD_RATE_LIMIT: 5\n", []string{"capd.yaml:1: CAPD_RATE_LIMIT: unknown setting; did you mean rate-limit?"}},
		{"ErrUnknownKeyNothingClose", nil, nil, "colour: blue\n", []string{"capd.yaml:1: colour: unknown setting (the keys are the flag names of"}},
		{"ErrUnknownKeyOnAnyCommand", []string{"tenants", "list"}, nil, "max-open-tenant: 5\n", []string{"capd.yaml:1: max-open-tenant: unknown setting; did you mean max-open-tenants?"}},
		{"ErrExcludedKey", []string{"stdio"}, nil, "tenant: acme\n", []string{"capd.yaml:1: tenant: --tenant of capd stdio is read only from the command line"}},
		{"ErrManagementFlagKey", nil, nil, "email: a@acme.example\n", []string{"capd.yaml:1: email: --email belongs to capd staff add"}},
		{"ErrConfigInConfig", nil, nil, "config: other.yaml\n", []string{"capd.yaml:1: config: a config file cannot name another"}},
		{"ErrDuplicateKey", nil, nil, "addr: 127.0.0.1:1\naddr: 127.0.0.1:2\n", []string{"capd.yaml:2: addr is also set on line 1"}},
		{"ErrNotAMapping", nil, nil, "- addr\n", []string{"capd.yaml:1: want a mapping of flag names to values"}},
		{"ErrYAMLSyntax", nil, nil, "addr: [\n", []string{"capd.yaml: yaml:"}},
		{"ErrConfigFileMissingFlag", []string{"serve", "--config", "/nonexistent/capd.yaml"}, nil, "", []string{"--config: open /nonexistent/capd.yaml"}},
		{"ErrConfigFileMissingEnvironment", nil, map[string]string{"CAPD_CONFIG": "/nonexistent/capd.yaml"}, "", []string{"CAPD_CONFIG: open /nonexistent/capd.yaml"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			args := c.args
			if args == nil {
				args = []string{"serve"}
			}
			_, err := settle(t, c.env, c.file, args...)
			if c.want == nil {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Equal(t, 2, exitCode(err), "a usage error: %v", err)
			for _, w := range c.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

// TestSettingsErrorsNameTheirSource: a check in the command itself names
// the flag; when the value came from a variable or a file line, the error
// says which.
func TestSettingsErrorsNameTheirSource(t *testing.T) {
	t.Run("ErrFromEnvironment", func(t *testing.T) {
		t.Setenv("CAPD_KEY_RATE_LIMIT", "not-a-rate")
		_, err := runCLI(t, "serve", "--data", t.TempDir(), "--addr", "127.0.0.1:0", "--conformance-interval", "0")
		require.Error(t, err)
		assert.Equal(t, 2, exitCode(err))
		assert.Contains(t, err.Error(), `--key-rate-limit "not-a-rate"`)
		assert.Contains(t, err.Error(), "(--key-rate-limit came from CAPD_KEY_RATE_LIMIT)")
	})
	t.Run("ErrFromFile", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "capd.yaml")
		require.NoError(t, os.WriteFile(path, []byte("addr: 127.0.0.1:0\nkey-rate-limit:\n  - not-a-rate\n"), 0o600))
		_, err := runCLI(t, "serve", "--config", path, "--data", t.TempDir(), "--conformance-interval", "0")
		require.Error(t, err)
		assert.Equal(t, 2, exitCode(err))
		assert.Contains(t, err.Error(), "(--key-rate-limit came from "+path+":2)")
	})
	t.Run("FromCommandLineUnattributed", func(t *testing.T) {
		_, err := runCLI(t, "serve", "--data", t.TempDir(), "--addr", "127.0.0.1:0", "--conformance-interval", "0", "--key-rate-limit", "not-a-rate")
		require.Error(t, err)
		assert.NotContains(t, err.Error(), "came from")
	})
}

// freeLoopbackAddr is a loopback address with a port nothing listens on.
func freeLoopbackAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

// checkConfiguredServer proves that a capd serve configured with addr,
// rate-limit 1, rate-burst 2 and allowed origin https://app.example.com
// runs with them: the banner and /healthz are on addr, a key's third
// immediate call is refused with 429 (the default burst is 200), and the
// allowed origin passes where another is refused.
func checkConfiguredServer(t *testing.T, p *capdProc, addr string, f *fixture) {
	t.Helper()
	require.Equal(t, "http://"+addr, p.base, "the banner shows the configured address")
	for i := 1; i <= 2; i++ {
		r := tapiCall(t, p.base, f.fullA, "projects.list_projects", map[string]any{})
		require.Equal(t, http.StatusOK, r.Status, "call %d within the burst: %s", i, r.Body)
	}
	r := tapiCall(t, p.base, f.fullA, "projects.list_projects", map[string]any{})
	assert.Equal(t, http.StatusTooManyRequests, r.Status, "burst 2 at 1 call/s: %s", r.Body)
	r = tapiCallWith(t, p.base, f.fullB, "projects.list_projects", map[string]any{}, map[string]string{"Origin": "https://app.example.com"})
	assert.Equal(t, http.StatusOK, r.Status, "an allowed origin: %s", r.Body)
	r = tapiCallWith(t, p.base, f.fullB, "projects.list_projects", map[string]any{}, map[string]string{"Origin": "https://evil.example.com"})
	assert.Equal(t, http.StatusForbidden, r.Status, "another origin: %s", r.Body)
}

// TestServeConfiguredByEnvironment runs the real binary with no flags but
// the command: everything comes from CAPD_ variables.
func TestServeConfiguredByEnvironment(t *testing.T) {
	f := newFixture(t)
	addr := freeLoopbackAddr(t)
	p := startCapdWith(t, []string{
		"CAPD_DATA=" + f.data,
		"CAPD_ADDR=" + addr,
		"CAPD_RATE_LIMIT=1",
		"CAPD_RATE_BURST=2",
		"CAPD_ALLOWED_ORIGINS=https://other.example.com,https://app.example.com",
		"CAPD_CONFORMANCE_INTERVAL=0",
	}, "serve")
	checkConfiguredServer(t, p, addr, f)
}

// TestServeConfiguredByFile runs the real binary with only --config.
func TestServeConfiguredByFile(t *testing.T) {
	f := newFixture(t)
	addr := freeLoopbackAddr(t)
	path := filepath.Join(t.TempDir(), "capd.yaml")
	require.NoError(t, os.WriteFile(path, []byte(strings.Join([]string{
		"data: " + strconv.Quote(f.data),
		"addr: " + addr,
		"rate-limit: 1",
		"rate-burst: 2",
		"allowed-origins:",
		"  - https://other.example.com",
		"  - https://app.example.com",
		"conformance-interval: 0s",
	}, "\n")+"\n"), 0o600))
	p := startCapdWith(t, nil, "serve", "--config", path)
	checkConfiguredServer(t, p, addr, f)
}
