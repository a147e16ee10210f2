package main

import (
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/capd-dev/capd/capabilities"
)

var tokenRE = regexp.MustCompile(`^capd_[a-z0-9]{8}_[a-z0-9]{40,}$`)

// TestTenantsAndKeysCLI drives the management commands the way a person
// would, against a server that keeps running: keys created or revoked by
// the CLI take effect on the server's next request.
func TestTenantsAndKeysCLI(t *testing.T) {
	f := newFixture(t)
	url := startServer(t, f)
	data := "--data=" + f.data

	t.Run("CreateTenant", func(t *testing.T) {
		out, err := runCLI(t, "tenants", "create", "northwind-labs", "--name", "Northwind Labs", data)
		require.NoError(t, err, out)
		out, err = runCLI(t, "tenants", "list", data)
		require.NoError(t, err)
		assert.Contains(t, out, "northwind-labs")
		assert.Contains(t, out, "Northwind Labs")
	})
	t.Run("ErrDuplicateTenant", func(t *testing.T) {
		_, err := runCLI(t, "tenants", "create", "northwind-labs", data)
		require.Error(t, err)
	})
	t.Run("ErrBadSlug", func(t *testing.T) {
		for _, slug := range []string{"Upper", "../escape", "a", "with space", "-lead"} {
			_, err := runCLI(t, "tenants", "create", slug, data)
			assert.Error(t, err, slug)
		}
	})

	var token string
	t.Run("CreateKeyPrintsOnlyToken", func(t *testing.T) {
		out, err := runCLI(t, "keys", "create", "--tenant", "northwind-labs", "--scopes", "projects.read", data)
		require.NoError(t, err, out)
		assert.Regexp(t, tokenRE, out, "stdout is the token and nothing else")
		token = out
	})
	t.Run("ErrUnknownScope", func(t *testing.T) {
		_, err := runCLI(t, "keys", "create", "--tenant", "northwind-labs", "--scopes", "projects.admin", data)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "projects.admin")
	})
	t.Run("ErrUnknownTenant", func(t *testing.T) {
		_, err := runCLI(t, "keys", "create", "--tenant", "nobody-here", data)
		require.Error(t, err)
	})
	t.Run("NewKeyWorksOnRunningServer", func(t *testing.T) {
		res := post(t, url, listTools, map[string]string{"Authorization": "Bearer " + token})
		assert.Equal(t, http.StatusOK, res.StatusCode)
	})
	prefix := strings.Split(token, "_")[1]
	t.Run("ListShowsPrefixesOnly", func(t *testing.T) {
		out, err := runCLI(t, "keys", "list", "--tenant", "northwind-labs", data)
		require.NoError(t, err)
		assert.Contains(t, out, prefix)
		assert.NotContains(t, out, strings.Split(token, "_")[2], "the secret is never shown again")
		assert.Contains(t, out, "projects.read")
	})
	t.Run("RevokeTakesEffectOnNextRequest", func(t *testing.T) {
		out, err := runCLI(t, "keys", "revoke", prefix, data)
		require.NoError(t, err, out)
		res := post(t, url, listTools, map[string]string{"Authorization": "Bearer " + token})
		assert.Equal(t, http.StatusUnauthorized, res.StatusCode)
		out, err = runCLI(t, "keys", "list", "--tenant", "northwind-labs", data)
		require.NoError(t, err)
		assert.Contains(t, out, "revoked")
	})
	t.Run("ErrRevokeUnknown", func(t *testing.T) {
		_, err := runCLI(t, "keys", "revoke", "zzzzzzzz", data)
		require.Error(t, err)
	})
	t.Run("StaffAdd", func(t *testing.T) {
		out, err := runCLI(t, "staff", "add", "--tenant", "northwind-labs", "--email", "ada@northwind.example", "Ada Park", data)
		require.NoError(t, err, out)
		assert.Regexp(t, `^stf_[0-9a-f]{32}$`, out)
	})
}

// TestCapabilitiesCLI covers list, show and lint.
func TestCapabilitiesCLI(t *testing.T) {
	out, err := runCLI(t, "capabilities", "list")
	require.NoError(t, err)
	for _, name := range toolNames(t, "") {
		assert.Contains(t, out, name)
	}
	out, err = runCLI(t, "capabilities", "show", "projects.create_task@0.1.0")
	require.NoError(t, err)
	assert.Contains(t, out, `"title": "create_task"`)
	assert.Contains(t, out, `"maxLength": 200`)
	latest, err := runCLI(t, "capabilities", "show", "projects.create_task@"+latestVersion(t, "projects.create_task"))
	require.NoError(t, err)
	same, err := runCLI(t, "capabilities", "show", "projects.create_task")
	require.NoError(t, err)
	assert.Equal(t, latest, same, "a bare name shows the latest stable version")

	_, err = runCLI(t, "capabilities", "show", "projects.create_task@9.9.9")
	require.Error(t, err)
	_, err = runCLI(t, "capabilities", "show", "projects.create_task@latest")
	require.Error(t, err)

	out, err = runCLI(t, "capabilities", "lint")
	require.NoError(t, err)
	assert.Regexp(t, `^\d+ capability versions OK, \d+ conformance cases$`, out)
}

// TestLintReportsProblems runs the binary's lint on a broken copy of the
// manifests: exit status 1, and a message naming the file and field.
func TestLintReportsProblems(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.CopyFS(dir, capabilities.FS))
	file := filepath.Join(dir, "projects.get_task", "0.1.0.yaml")
	b, err := os.ReadFile(file)
	require.NoError(t, err)
	broken := strings.Replace(string(b), "scope: projects.read", "scope: projects.admin", 1)
	require.NotEqual(t, string(b), broken)
	require.NoError(t, os.WriteFile(file, []byte(broken), 0o644))

	cmd := exec.Command(capdBinary, "capabilities", "lint", "--dir", dir)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit, string(out))
	assert.Equal(t, 1, exit.ExitCode())
	assert.Contains(t, string(out), "capabilities/projects.get_task/0.1.0.yaml: /scope")

	ok, err := exec.Command(capdBinary, "capabilities", "lint").CombinedOutput()
	require.NoError(t, err, string(ok))

	// A published contract is immutable: editing its semantics fails lint
	// with the way out.
	edited := strings.Replace(string(b), "Returns the task with", "Returns the whole task with", 1)
	require.NotEqual(t, string(b), edited)
	require.NoError(t, os.WriteFile(file, []byte(edited), 0o644))
	out, err = exec.Command(capdBinary, "capabilities", "lint", "--dir", dir).CombinedOutput()
	require.ErrorAs(t, err, &exit, string(out))
	assert.Contains(t, string(out), "publish a new version")

	// Cases are part of a capability: a version without a rejection case
	// fails lint too.
	require.NoError(t, os.WriteFile(file, b, 0o644))
	cases := filepath.Join(dir, "projects.get_task", "0.1.0.cases.yaml")
	require.NoError(t, os.WriteFile(cases, []byte("cases:\n  - id: only_happy\n    kind: happy\n    description: x\n    input: {task_id: tsk_1}\n    expect: {ok: true}\n"), 0o644))
	out, err = exec.Command(capdBinary, "capabilities", "lint", "--dir", dir).CombinedOutput()
	require.ErrorAs(t, err, &exit, string(out))
	assert.Contains(t, string(out), "capabilities/projects.get_task/0.1.0.cases.yaml")
	assert.Contains(t, string(out), "no rejection case")
}
