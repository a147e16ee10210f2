package invoke_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"testing/fstest"

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

// The two tenants every test database holds.
const (
	tenantA = "acme"
	tenantB = "globex"
)

// env is one test's server: a real registry, a real SQLite data directory
// with two tenants, and an invoker over them.
type env struct {
	inv      *invoke.Invoker
	db       *sqlite.DB
	recorder *fakeRecorder
	logs     *lockedBuffer
	staffID  string // a staff member of tenant A
}

// newEnv builds an env over reg; nil means the real manifests bound to
// projectkit.
func newEnv(t *testing.T, reg *registry.Registry) *env {
	t.Helper()
	ctx := context.Background()
	if reg == nil {
		reg = realRegistry(t)
	}
	db, err := sqlite.Open(ctx, sqlite.Options{Dir: t.TempDir()})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, db.Close()) })
	for _, slug := range []string{tenantA, tenantB} {
		require.NoError(t, db.Control().CreateTenant(ctx, &capability.Tenant{Slug: slug}))
	}
	e := &env{db: db, recorder: &fakeRecorder{}, logs: &lockedBuffer{}}
	e.update(t, tenantA, func(tx capability.Tx) error {
		s := &capability.Staff{Name: "Ada Lovelace", Email: "ada@acme.test", Role: "engineer"}
		if err := tx.CreateStaff(ctx, s); err != nil {
			return err
		}
		e.staffID = s.ID
		return nil
	})
	e.inv = &invoke.Invoker{
		Registry: reg,
		Tenants:  db.Tenants(),
		Recorder: e.recorder,
		Logger:   slog.New(slog.NewTextHandler(e.logs, nil)),
	}
	return e
}

// realRegistry is what capd serves: the embedded manifests bound to
// projectkit.
func realRegistry(t *testing.T) *registry.Registry {
	t.Helper()
	r, err := registry.Load(capabilities.FS, schemas.FS)
	require.NoError(t, err)
	require.NoError(t, r.Bind(projectkit.New()))
	return r
}

func (e *env) store(t *testing.T, tenant string) capability.TenantStore {
	t.Helper()
	s, err := e.db.Tenants().Tenant(context.Background(), tenant)
	require.NoError(t, err)
	return s
}

// update runs fn in a write transaction of tenant and requires success.
func (e *env) update(t *testing.T, tenant string, fn func(capability.Tx) error) {
	t.Helper()
	require.NoError(t, e.store(t, tenant).Update(context.Background(), fn))
}

// taskCount counts tenant's tasks straight from the store.
func (e *env) taskCount(t *testing.T, tenant string) int {
	t.Helper()
	var n int
	require.NoError(t, e.store(t, tenant).View(context.Background(), func(tx capability.Tx) error {
		counts, err := tx.CountTasksByStatus(context.Background(), "")
		for _, c := range counts {
			n += c
		}
		return err
	}))
	return n
}

// principal is a caller of tenant holding scopes; no scopes means both.
func principal(tenant string, scopes ...capability.Scope) capability.Principal {
	if len(scopes) == 0 {
		scopes = capability.AllScopes
	}
	return capability.Principal{Tenant: tenant, KeyPrefix: "capd_test_" + tenant, Scopes: scopes}
}

// call runs ref with args, which is raw JSON when a string or []byte and is
// marshalled otherwise.
func (e *env) call(t *testing.T, p capability.Principal, ref string, args any) *invoke.Result {
	t.Helper()
	r, err := registry.ParseRef(ref)
	require.NoError(t, err)
	return e.inv.Call(context.Background(), p, r, rawArgs(t, args))
}

func rawArgs(t *testing.T, args any) json.RawMessage {
	t.Helper()
	switch a := args.(type) {
	case nil:
		return nil
	case string:
		return json.RawMessage(a)
	case []byte:
		return a
	}
	b, err := json.Marshal(args)
	require.NoError(t, err)
	return b
}

// mustOK requires res to be a success and returns its output as decoded
// JSON, the form a client sees.
func mustOK(t *testing.T, res *invoke.Result) map[string]any {
	t.Helper()
	require.Nil(t, res.Err, "call failed: %s", res.JSON)
	require.True(t, res.InContract)
	var out map[string]any
	require.NoError(t, json.Unmarshal(res.JSON, &out))
	require.Equal(t, true, out["ok"])
	return out
}

// requireCode requires res to be a rejection with code and returns its
// output as decoded JSON.
func requireCode(t *testing.T, res *invoke.Result, code string) map[string]any {
	t.Helper()
	require.NotNil(t, res.Err, "expected %s, got success: %s", code, res.JSON)
	require.Equal(t, code, res.Err.Code, "%s", res.JSON)
	var out map[string]any
	require.NoError(t, json.Unmarshal(res.JSON, &out))
	require.Equal(t, false, out["ok"])
	require.Equal(t, code, out["error"])
	return out
}

// issuePaths returns the path of each issue of a rejection.
func issuePaths(res *invoke.Result) []string {
	var out []string
	for _, is := range res.Err.Issues {
		out = append(out, is.Path)
	}
	return out
}

// requireInContract requires res.JSON to satisfy the output schema of the
// version that answered.
func requireInContract(t *testing.T, res *invoke.Result) {
	t.Helper()
	require.NotNil(t, res.Version)
	v, err := schema.Decode(res.JSON, schema.MaxDepth)
	require.NoError(t, err)
	require.Empty(t, res.Version.Output.Validate(v), "%s", res.JSON)
}

// createProject creates a project in tenant through the invoker.
func (e *env) createProject(t *testing.T, tenant, name string) string {
	t.Helper()
	out := mustOK(t, e.call(t, principal(tenant), "projects.create_project", map[string]any{"name": name}))
	return out["project"].(map[string]any)["project_id"].(string)
}

// createTask creates a task in tenant through the invoker.
func (e *env) createTask(t *testing.T, tenant, projectID, title string) string {
	t.Helper()
	out := mustOK(t, e.call(t, principal(tenant), "projects.create_task", map[string]any{"project_id": projectID, "title": title}))
	return out["task_id"].(string)
}

// fakeRecorder keeps every record.
type fakeRecorder struct {
	mu      sync.Mutex
	records []capability.CallRecord
}

func (r *fakeRecorder) Record(c capability.CallRecord) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.records = append(r.records, c)
}

func (r *fakeRecorder) all() []capability.CallRecord {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]capability.CallRecord(nil), r.records...)
}

// lockedBuffer is a log sink safe for concurrent calls.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// take returns what was logged since the last take, and forgets it.
func (b *lockedBuffer) take() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := b.buf.String()
	b.buf.Reset()
	return out
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// fakeManifest is a manifest for a test capability that writes (scope
// projects.write) unless readOnly, declares invalid_input and
// unknown_project, and answers {project_id}.
func fakeManifest(name, version string, status capability.Status, replacement string, readOnly bool) []byte {
	scope := capability.ScopeProjectsWrite
	if readOnly {
		scope = capability.ScopeProjectsRead
	}
	repl := ""
	if replacement != "" {
		repl = "replacement: " + replacement
	}
	return []byte(fmt.Sprintf(`
name: %s
version: %s
scope: %s
status: %s
%s
title: thing
summary: A test capability.
semantics: Does what the test's handler does.
invariants: [Whatever the test says.]
when_to_use: In tests only.
annotations: {read_only: %t, destructive: false, idempotent: false, open_world: false}
errors:
  invalid_input: {meaning: Bad input., next: Fix it.}
  unknown_project: {meaning: No such project., next: Call projects.list_projects.}
input_schema:
  type: object
  additionalProperties: false
  properties:
    name: {type: string}
output_schema:
  type: object
  required: [ok]
  properties:
    ok: {type: boolean}
    error: {type: string, enum: [invalid_input, unknown_project]}
    message: {type: string}
    issues: {type: array}
    project_id: {type: string}
examples:
  - title: OK
    input: {name: x}
    output: {ok: true, project_id: prj_1}
  - title: Rejected
    input: {}
    output: {ok: false, error: invalid_input, message: name is required.}
`, name, version, scope, status, repl, readOnly))
}

// fakeProvider binds the handlers a test gives it.
type fakeProvider map[string]capability.Handler

func (fakeProvider) Name() string                              { return "fake" }
func (p fakeProvider) Handlers() map[string]capability.Handler { return p }

// fakeRegistry loads files (path → manifest) and binds handlers.
func fakeRegistry(t *testing.T, files map[string][]byte, handlers fakeProvider) *registry.Registry {
	t.Helper()
	fsys := fstest.MapFS{}
	for path, data := range files {
		fsys[path] = &fstest.MapFile{Data: data}
	}
	r, err := registry.Load(fsys, schemas.FS)
	require.NoError(t, err)
	require.NoError(t, r.Bind(handlers))
	return r
}
