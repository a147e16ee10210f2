package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/capd-dev/capd/capabilities"
	"github.com/capd-dev/capd/internal/capability"
	"github.com/capd-dev/capd/internal/sets"
)

// writeSetFile writes a set file into a temporary directory.
func writeSetFile(t *testing.T, name, body string) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(file, []byte(body), 0o644))
	return file
}

const triageYAML = `name: triage
description: read and file tasks
tags: [ops]
members:
  - projects.list_tasks
  - {name: projects.create_task, version: 0.1.0, notes: the agent's prompts expect 0.1.0}
  - projects.lsit_projects
`

// TestSetsCLI is a local administrator's path through capd sets: create a
// set from YAML with a bare, a pinned and a misspelled member, see the
// misspelled one surfaced, list, show as JSON, and delete; mistakes are
// refused naming what is wrong.
func TestSetsCLI(t *testing.T) {
	f := newFixture(t)
	data := "--data=" + f.data
	tenant := "--tenant=" + f.tenantA

	t.Run("Create", func(t *testing.T) {
		out, err := runCLI(t, "sets", "create", tenant, writeSetFile(t, "triage.yaml", triageYAML), data)
		require.NoError(t, err, out)
		assert.Regexp(t, `projects\.list_tasks\s+`+regexp.QuoteMeta(latestVersion(t, "projects.list_tasks"))+`\s+-`, out)
		assert.Regexp(t, `projects\.create_task@0\.1\.0\s+0\.1\.0\s+-\s+the agent's prompts expect 0\.1\.0`, out)
		assert.Regexp(t, `projects\.lsit_projects\s+-\s+not_found`, out, "a misspelled member is never hidden")
		assert.Regexp(t, `unresolvable_count:\s+1\n`, out)
		assert.Regexp(t, `created_by:\s+cli\n`, out)
	})
	t.Run("CreateFromStdinJSON", func(t *testing.T) {
		var out, errOut bytes.Buffer
		cmd := newRootCmd(&out, &errOut)
		cmd.SetIn(strings.NewReader(`{"name":"readers","is_public":true,"members":["projects.get_task"]}`))
		cmd.SetArgs([]string{"sets", "create", tenant, "--format", "json", "-", data})
		require.NoError(t, cmd.ExecuteContext(context.Background()), errOut.String())
		var v sets.View
		require.NoError(t, json.Unmarshal(out.Bytes(), &v), out.String())
		assert.True(t, v.IsPublic)
		assert.Equal(t, latestVersion(t, "projects.get_task"), v.Members[0].ResolvedVersion)
	})
	t.Run("List", func(t *testing.T) {
		out, err := runCLI(t, "sets", "list", tenant, data)
		require.NoError(t, err, out)
		assert.Regexp(t, `^NAME\s+OWNER\s+PUBLIC\s+MEMBERS\s+UNRESOLVABLE\s+TAGS\n`, out)
		assert.Regexp(t, `projects-readonly\s+built-in\s+true\s+10\s+0\s+projects,read-only`, out)
		assert.Regexp(t, `projects-agent\s+built-in\s+true\s+\d+\s+0\s+`, out)
		assert.Regexp(t, `triage\s+`+f.tenantA+`\s+false\s+3\s+1\s+ops`, out)

		out, err = runCLI(t, "sets", "list", tenant, "--tag", "ops", data)
		require.NoError(t, err, out)
		assert.Contains(t, out, "triage")
		assert.NotContains(t, out, "projects-readonly")
	})
	t.Run("ShowJSON", func(t *testing.T) {
		out, err := runCLI(t, "sets", "show", tenant, "triage", "--format", "json", data)
		require.NoError(t, err, out)
		var v sets.View
		require.NoError(t, json.Unmarshal([]byte(out), &v), out)
		assert.Equal(t, f.tenantA, v.Owner)
		assert.False(t, v.BuiltIn)
		assert.Equal(t, "cli", v.CreatedBy)
		assert.Equal(t, []string{"ops"}, v.Tags)
		assert.Equal(t, 1, v.UnresolvableCount)
		require.Len(t, v.Members, 3)
		assert.Equal(t, latestVersion(t, "projects.list_tasks"), v.Members[0].ResolvedVersion)
		assert.Equal(t, "0.1.0", v.Members[1].ResolvedVersion)
		assert.Equal(t, capability.UnresolvableNotFound, v.Members[2].UnresolvableReason)
		assert.NotNil(t, v.CreatedAt)

		out, err = runCLI(t, "sets", "show", tenant, "projects-readonly", data)
		require.NoError(t, err, out)
		assert.Regexp(t, `owner:\s+built-in\n`, out)
	})
	t.Run("ErrDuplicateName", func(t *testing.T) {
		_, err := runCLI(t, "sets", "create", tenant, writeSetFile(t, "again.yaml", triageYAML), data)
		require.Error(t, err)
		assert.Equal(t, capability.CodeAlreadyExists, capability.ErrorCode(err))
		_, err = runCLI(t, "sets", "create", tenant, writeSetFile(t, "builtin.yaml", "name: projects-readonly\nmembers: []\n"), data)
		assert.Equal(t, capability.CodeAlreadyExists, capability.ErrorCode(err), "a built-in set's name is taken")
	})
	t.Run("ErrPinnedLatest", func(t *testing.T) {
		out, err := runCLI(t, "sets", "create", tenant, writeSetFile(t, "bad.yaml", "name: bad\nmembers: [projects.get_task, projects.list_tasks@latest]\n"), data)
		require.Error(t, err)
		assert.Equal(t, capability.CodeInvalidInput, capability.ErrorCode(err))
		assert.Contains(t, err.Error(), "/members/1")
		assert.Contains(t, err.Error(), "projects.list_tasks@latest", "the error names the member")
		_, err = runCLI(t, "sets", "show", tenant, "bad", data)
		assert.Equal(t, capability.CodeNotFound, capability.ErrorCode(err), "nothing was created: %s", out)
	})
	t.Run("ErrUnknownFields", func(t *testing.T) {
		_, err := runCLI(t, "sets", "create", tenant, writeSetFile(t, "extra.yaml", "name: extra\nmembers: []\nvisibility: public\nowner: x\n"), data)
		require.Error(t, err)
		assert.Equal(t, capability.CodeInvalidInput, capability.ErrorCode(err))
		assert.Contains(t, err.Error(), `"visibility"`)
		assert.Contains(t, err.Error(), `"owner"`)
	})
	t.Run("ErrUsage", func(t *testing.T) {
		_, err := runCLI(t, "sets", "list", data)
		assert.Equal(t, 2, exitCode(err), "--tenant is required")
		_, err = runCLI(t, "sets", "show", tenant, "triage", "--format", "yaml", data)
		assert.Equal(t, 2, exitCode(err))
		_, err = runCLI(t, "sets", "list", "--tenant", "nobody-here", data)
		assert.Error(t, err)
	})
	t.Run("Delete", func(t *testing.T) {
		out, err := runCLI(t, "sets", "delete", tenant, "triage", data)
		require.NoError(t, err, out)
		_, err = runCLI(t, "sets", "show", tenant, "triage", data)
		assert.Equal(t, capability.CodeNotFound, capability.ErrorCode(err))
		_, err = runCLI(t, "sets", "delete", tenant, "triage", data)
		assert.Equal(t, capability.CodeNotFound, capability.ErrorCode(err))
	})
	t.Run("ErrDeleteBuiltIn", func(t *testing.T) {
		_, err := runCLI(t, "sets", "delete", tenant, "projects-readonly", data)
		require.Error(t, err)
		assert.Equal(t, capability.CodeForbidden, capability.ErrorCode(err))
		assert.Contains(t, err.Error(), "built-in")
	})
}

// TestSetsCLITenantIsolation checks that one tenant's private set is
// invisible to another, while a public one is listed with its owner.
func TestSetsCLITenantIsolation(t *testing.T) {
	f := newFixture(t)
	data := "--data=" + f.data
	_, err := runCLI(t, "sets", "create", "--tenant", f.tenantA, writeSetFile(t, "p.yaml", "name: a-private\nmembers: [projects.get_task]\n"), data)
	require.NoError(t, err)
	_, err = runCLI(t, "sets", "create", "--tenant", f.tenantA, writeSetFile(t, "q.yaml", "name: a-public\nis_public: true\nmembers: [projects.get_task]\n"), data)
	require.NoError(t, err)

	out, err := runCLI(t, "sets", "list", "--tenant", f.tenantB, data)
	require.NoError(t, err, out)
	assert.NotContains(t, out, "a-private")
	assert.Regexp(t, `a-public\s+`+f.tenantA+`\s+true`, out)
	_, err = runCLI(t, "sets", "show", "--tenant", f.tenantB, "a-private", data)
	assert.Equal(t, capability.CodeNotFound, capability.ErrorCode(err))
	_, err = runCLI(t, "sets", "delete", "--tenant", f.tenantB, "a-public", data)
	assert.Equal(t, capability.CodeForbidden, capability.ErrorCode(err), "another tenant's public set is readable, not writable")
}

// TestSetsConformanceRun runs conformance for the cases of one set only:
// the read-only built-in set runs exactly its members' cases, at their
// latest versions, and all pass.
func TestSetsConformanceRun(t *testing.T) {
	f := newFixture(t)
	data := "--data=" + f.data
	reg, err := loadRegistry()
	require.NoError(t, err)
	builtIn, err := sets.LoadBuiltIn(capabilities.FS, reg)
	require.NoError(t, err)
	members := map[string]bool{}
	for _, s := range builtIn {
		if s.Name == "projects-readonly" {
			for _, m := range s.Members {
				members[m.Name] = true
			}
		}
	}
	require.NotEmpty(t, members)

	type report struct {
		Summary struct{ Passed, Failed, Errored, Total int }
		Results []struct{ Provider, Capability, Version, Case, Kind, Outcome string }
	}
	t.Run("OnlyReadCapabilities", func(t *testing.T) {
		out, code := runBinary(t, nil, "conformance", "run", data, "--set", "projects-readonly", "--tenant", f.tenantA, "--format", "json")
		require.Equal(t, 0, code, out)
		var rep report
		require.NoError(t, json.Unmarshal([]byte(out), &rep), out)
		require.NotZero(t, rep.Summary.Total)
		assert.Equal(t, rep.Summary.Total, rep.Summary.Passed)
		ran := map[string]bool{}
		for _, r := range rep.Results {
			ran[r.Capability] = true
			assert.Equal(t, capability.ScopeProjectsRead, reg.Latest(r.Capability).Manifest.Scope, r.Capability)
			assert.Equal(t, latestVersion(t, r.Capability), r.Version, "bare members run at their resolved version")
			assert.Equal(t, "projectkit:"+f.tenantA, r.Provider)
		}
		assert.Equal(t, members, ran)
	})
	t.Run("CombinedWithKind", func(t *testing.T) {
		out, code := runBinary(t, nil, "conformance", "run", data, "--set", "projects-readonly", "--tenant", f.tenantA, "--kind", "happy", "--format", "json", "--no-record")
		require.Equal(t, 0, code, out)
		var rep report
		require.NoError(t, json.Unmarshal([]byte(out), &rep), out)
		require.NotEmpty(t, rep.Results)
		for _, r := range rep.Results {
			assert.Equal(t, "happy", r.Kind)
			assert.True(t, members[r.Capability], r.Capability)
		}
	})
	t.Run("TenantSetPinned", func(t *testing.T) {
		_, err := runCLI(t, "sets", "create", "--tenant", f.tenantA, writeSetFile(t, "s.yaml", "name: pinned\nmembers: [projects.create_task@0.1.0]\n"), data)
		require.NoError(t, err)
		out, code := runBinary(t, nil, "conformance", "run", data, "--set", "pinned", "--tenant", f.tenantA, "--format", "json", "--no-record")
		require.Equal(t, 0, code, out)
		var rep report
		require.NoError(t, json.Unmarshal([]byte(out), &rep), out)
		require.NotEmpty(t, rep.Results)
		for _, r := range rep.Results {
			assert.Equal(t, "projects.create_task", r.Capability)
			assert.Equal(t, "0.1.0", r.Version)
		}
	})
	t.Run("ErrUsage", func(t *testing.T) {
		_, err := runCLI(t, "sets", "create", "--tenant", f.tenantA, writeSetFile(t, "n.yaml", "name: nothing\nmembers: [projects.lsit_projects]\n"), data)
		require.NoError(t, err)
		for _, args := range [][]string{
			{"--set", "nosuch"},
			{"--set", "nosuch", "--tenant", f.tenantA},
			{"--set", "nothing", "--tenant", f.tenantA},
			{"--set", "nothing"},
			{"--set", "projects-readonly", "--capability", "projects.create_task"},
		} {
			out, code := runBinary(t, nil, append([]string{"conformance", "run", data, "--no-record"}, args...)...)
			assert.Equal(t, 2, code, "%v: %s", args, out)
		}
	})
}
