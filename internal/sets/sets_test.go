package sets_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/capd-dev/capd/capabilities"
	"github.com/capd-dev/capd/internal/capability"
	"github.com/capd-dev/capd/internal/providers/projectkit"
	"github.com/capd-dev/capd/internal/registry"
	"github.com/capd-dev/capd/internal/sets"
	"github.com/capd-dev/capd/schemas"
)

func realRegistry(t *testing.T) *registry.Registry {
	t.Helper()
	reg, err := registry.Load(capabilities.FS, schemas.FS)
	require.NoError(t, err)
	require.NoError(t, reg.Bind(projectkit.New()))
	return reg
}

func raw(items ...string) []json.RawMessage {
	out := make([]json.RawMessage, len(items))
	for i, s := range items {
		out[i] = json.RawMessage(s)
	}
	return out
}

// TestResolve names every reason a member can fail to resolve, and never
// drops one.
func TestResolve(t *testing.T) {
	reg := realRegistry(t)
	set := &capability.CapabilitySet{Name: "s", Members: []capability.SetMember{
		{Name: "projects.get_task"},
		{Name: "projects.create_task", Version: "0.1.0"},
		{Name: "projects.create_task", Version: "9.9.9"},
		{Name: "projects.nothing"},
	}}
	rs := sets.Resolve(reg, set, nil)
	require.Len(t, rs, 4)
	assert.Equal(t, reg.Latest("projects.get_task"), rs[0].Version)
	assert.Equal(t, "0.1.0", rs[1].Version.Manifest.Version)
	assert.Equal(t, capability.UnresolvableVersionNotFound, rs[2].Reason)
	assert.Equal(t, capability.UnresolvableNotFound, rs[3].Reason)
	assert.Equal(t, 2, sets.Unresolvable(rs))

	ro := capability.Principal{Scopes: []capability.Scope{capability.ScopeProjectsRead}}
	rs = sets.Resolve(reg, set, &ro)
	assert.Equal(t, capability.UnresolvableNotPermitted, rs[1].Reason, "the caller's scopes exclude a write capability")

	tools := sets.Tools(sets.Resolve(reg, set, nil))
	require.Len(t, tools, 2)
	assert.Equal(t, "projects.create_task", tools[0].Manifest.Name, "tools come in name order")
}

// TestParseMembers accepts the three member forms and refuses pins that
// are not exact versions, one issue per member.
func TestParseMembers(t *testing.T) {
	ms, issues := sets.ParseMembers(raw(`"projects.get_task"`, `"projects.create_task@0.1.0"`, `{"name":"projects.list_tasks","notes":"triage"}`), "/members")
	require.Empty(t, issues)
	assert.Equal(t, []capability.SetMember{{Name: "projects.get_task"}, {Name: "projects.create_task", Version: "0.1.0"}, {Name: "projects.list_tasks", Notes: "triage"}}, ms)

	_, issues = sets.ParseMembers(raw(`"projects.get_task@latest"`, `"projects.get_task@^0.1"`, `"projects.get_task@"`, `{"name":"x"}`, `{"name":"projects.a","colour":1}`, `7`), "/members")
	var paths []string
	for _, is := range issues {
		paths = append(paths, is.Path)
	}
	assert.Equal(t, []string{"/members/0", "/members/1", "/members/2", "/members/3", "/members/4", "/members/5"}, paths)
}

// TestBuiltInSets load and resolve completely.
func TestBuiltInSets(t *testing.T) {
	reg := realRegistry(t)
	builtIn, err := sets.LoadBuiltIn(capabilities.FS, reg)
	require.NoError(t, err)
	var names []string
	for _, s := range builtIn {
		names = append(names, s.Name)
		assert.True(t, s.IsPublic)
		assert.True(t, s.BuiltIn())
		assert.Zero(t, sets.Unresolvable(sets.Resolve(reg, s, nil)), s.Name)
	}
	assert.Equal(t, []string{"projects-agent", "projects-readonly"}, names)
	for _, v := range sets.Tools(sets.Resolve(reg, builtIn[1], nil)) {
		assert.True(t, v.Manifest.Annotations.ReadOnly, "projects-readonly holds read-only capabilities only: %s", v.Manifest.Name)
	}
}
