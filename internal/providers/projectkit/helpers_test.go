package projectkit_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/capd-dev/capd/capabilities"
	"github.com/capd-dev/capd/internal/capability"
	"github.com/capd-dev/capd/internal/invoke"
	"github.com/capd-dev/capd/internal/providers/projectkit"
	"github.com/capd-dev/capd/internal/registry"
	"github.com/capd-dev/capd/internal/schema"
	"github.com/capd-dev/capd/internal/store/sqlite"
	"github.com/capd-dev/capd/schemas"
)

// tenant is the one tenant these tests use.
const tenant = "acme"

// env is projectkit served the way capd serves it: the real manifests, the
// invoker, and a real SQLite data directory.
type env struct {
	inv   *invoke.Invoker
	db    *sqlite.DB
	clock *clock
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	reg, err := registry.Load(capabilities.FS, schemas.FS)
	require.NoError(t, err)
	require.NoError(t, reg.Bind(projectkit.New()))
	db, err := sqlite.Open(ctx, sqlite.Options{Dir: t.TempDir()})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, db.Close()) })
	require.NoError(t, db.Control().CreateTenant(ctx, &capability.Tenant{Slug: tenant}))
	c := &clock{now: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	return &env{
		db:    db,
		clock: c,
		inv: &invoke.Invoker{
			Registry: reg,
			Tenants:  db.Tenants(),
			Logger:   slog.New(slog.NewTextHandler(io.Discard, nil)),
			Now:      c.Now,
		},
	}
}

// clock is the invoker's clock; it moves only when a test advances it, so
// a test controls which calls happen "at the same time".
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// staff adds a staff member straight through the store (no capability
// creates staff) and returns its id.
func (e *env) staff(t *testing.T, name string) string {
	t.Helper()
	ctx := context.Background()
	store, err := e.db.Tenants().Tenant(ctx, tenant)
	require.NoError(t, err)
	s := &capability.Staff{Name: name, Email: name + "@acme.test", Role: "engineer"}
	require.NoError(t, store.Update(ctx, func(tx capability.Tx) error { return tx.CreateStaff(ctx, s) }))
	return s.ID
}

// call runs ref as a caller with both scopes; args is marshalled unless it
// is already a string of JSON.
func (e *env) call(t *testing.T, ref string, args any) *invoke.Result {
	t.Helper()
	r, err := registry.ParseRef(ref)
	require.NoError(t, err)
	var raw json.RawMessage
	switch a := args.(type) {
	case nil:
	case string:
		raw = json.RawMessage(a)
	default:
		raw, err = json.Marshal(args)
		require.NoError(t, err)
	}
	p := capability.Principal{Tenant: tenant, KeyPrefix: "capd_test", Scopes: capability.AllScopes}
	res := e.inv.Call(context.Background(), p, r, raw)
	requireInContract(t, res)
	return res
}

// requireInContract requires the result to satisfy its version's output
// schema; every projectkit answer is either a success or a declared code.
func requireInContract(t *testing.T, res *invoke.Result) {
	t.Helper()
	require.NotNil(t, res.Version)
	require.True(t, res.InContract, "%s", res.JSON)
	v, err := schema.Decode(res.JSON, schema.MaxDepth)
	require.NoError(t, err)
	require.Empty(t, res.Version.Output.Validate(v), "%s", res.JSON)
}

// ok runs ref, requires success and returns the output as a client sees it.
func (e *env) ok(t *testing.T, ref string, args any) map[string]any {
	t.Helper()
	res := e.call(t, ref, args)
	require.Nil(t, res.Err, "%s failed: %s", ref, res.JSON)
	return decode(t, res.JSON)
}

// rejected runs ref, requires the rejection code and returns the output.
func (e *env) rejected(t *testing.T, ref string, args any, code string) map[string]any {
	t.Helper()
	res := e.call(t, ref, args)
	require.NotNil(t, res.Err, "%s succeeded, want %s: %s", ref, code, res.JSON)
	require.Equal(t, code, res.Err.Code, "%s", res.JSON)
	out := decode(t, res.JSON)
	require.Equal(t, code, out["error"])
	return out
}

// issuePaths returns the issue paths of a rejection output.
func issuePaths(out map[string]any) []string {
	var paths []string
	for _, is := range out["issues"].([]any) {
		paths = append(paths, is.(map[string]any)["path"].(string))
	}
	return paths
}

func decode(t *testing.T, data []byte) map[string]any {
	t.Helper()
	var out map[string]any
	require.NoError(t, json.Unmarshal(data, &out))
	return out
}

func (e *env) createProject(t *testing.T, name string) string {
	t.Helper()
	return e.ok(t, "projects.create_project", map[string]any{"name": name})["project"].(map[string]any)["project_id"].(string)
}

// createTask creates a task in project with extra fields and returns its id.
func (e *env) createTask(t *testing.T, project, title string, fields map[string]any) string {
	t.Helper()
	args := map[string]any{"project_id": project, "title": title}
	for k, v := range fields {
		args[k] = v
	}
	return e.ok(t, "projects.create_task", args)["task_id"].(string)
}

func (e *env) getTask(t *testing.T, id string) map[string]any {
	t.Helper()
	return e.ok(t, "projects.get_task", map[string]any{"task_id": id})["task"].(map[string]any)
}

func (e *env) transition(t *testing.T, id, to string) {
	t.Helper()
	e.ok(t, "projects.transition_task", map[string]any{"task_id": id, "to": to})
}

// titles returns the title of every item of a list output, in order.
func titles(out map[string]any) []string {
	items := out["items"].([]any)
	ts := make([]string, len(items))
	for i, it := range items {
		ts[i] = it.(map[string]any)["title"].(string)
	}
	return ts
}
