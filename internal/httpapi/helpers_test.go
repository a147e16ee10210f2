package httpapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/capd-dev/capd/capabilities"
	"github.com/capd-dev/capd/internal/capability"
	"github.com/capd-dev/capd/internal/httpapi"
	"github.com/capd-dev/capd/internal/invoke"
	"github.com/capd-dev/capd/internal/providers/projectkit"
	"github.com/capd-dev/capd/internal/registry"
	"github.com/capd-dev/capd/internal/schema"
	"github.com/capd-dev/capd/internal/sets"
	"github.com/capd-dev/capd/internal/store/sqlite"
	"github.com/capd-dev/capd/schemas"
)

// env is the HTTP API over a real registry, invoker and SQLite store, with
// two tenants and keys of each kind.
type env struct {
	reg      *registry.Registry
	url      string
	db       *sqlite.DB
	fullA    string
	readA    string
	fullB    string
	project  string // a project of tenant A
	envelope *schema.Schema
}

// testProvider is projectkit plus two handlers the real manifests do not
// exercise: a retired projects.get_task@0.0.9 and a list_staff that fails
// with a non-application error (a server fault).
type testProvider struct{ *projectkit.Provider }

func (p testProvider) Handlers() map[string]capability.Handler {
	hs := p.Provider.Handlers()
	hs["projects.get_task@0.0.9"] = hs["projects.get_task@0.1.0"]
	hs["projects.list_staff@0.1.0"] = func(context.Context, *capability.Call) (map[string]any, error) {
		return nil, errors.New("disk on fire at /var/lib/capd/secret-path")
	}
	return hs
}

// manifests is the real capabilities plus a retired get_task@0.0.9.
func manifests(t *testing.T) fs.FS {
	t.Helper()
	m := fstest.MapFS{}
	require.NoError(t, fs.WalkDir(capabilities.FS, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(capabilities.FS, path)
		m[path] = &fstest.MapFile{Data: b}
		return err
	}))
	old := strings.Replace(string(m["projects.get_task/0.1.0.yaml"].Data), "version: 0.1.0", "version: 0.0.9", 1)
	old = strings.Replace(old, "status: stable", "status: retired\nreplacement: projects.get_task@0.1.0", 1)
	m["projects.get_task/0.0.9.yaml"] = &fstest.MapFile{Data: []byte(old)}
	return m
}

func newEnv(t *testing.T, opts ...func(*httpapi.API)) *env {
	t.Helper()
	ctx := context.Background()
	reg, err := registry.Load(manifests(t), schemas.FS)
	require.NoError(t, err)
	require.NoError(t, reg.Bind(testProvider{projectkit.New()}))
	db, err := sqlite.Open(ctx, sqlite.Options{Dir: t.TempDir()})
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	e := &env{db: db, reg: reg}
	for _, slug := range []string{"acme", "globex"} {
		require.NoError(t, db.Control().CreateTenant(ctx, &capability.Tenant{Slug: slug}))
	}
	key := func(tenant string, scopes ...capability.Scope) string {
		tok, _, err := db.Control().CreateKey(ctx, tenant, scopes, time.Time{})
		require.NoError(t, err)
		return tok
	}
	e.fullA, e.readA, e.fullB = key("acme", capability.AllScopes...), key("acme", capability.ScopeProjectsRead), key("globex", capability.AllScopes...)

	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	g := &httpapi.Guard{Keys: db.Control(), Logger: logger}
	api := &httpapi.API{Registry: reg, Invoker: &invoke.Invoker{Registry: reg, Tenants: db.Tenants(), Logger: logger}, Control: db.Control(), Guard: g, Logger: logger,
		Sets: &sets.Service{Store: db.Control(), Registry: reg}}
	for _, o := range opts {
		o(api)
	}
	srv := httptest.NewServer(api.Handler())
	t.Cleanup(srv.Close)
	e.url = srv.URL

	compiler, err := schema.NewCompiler(schemas.FS)
	require.NoError(t, err)
	e.envelope, err = compiler.CompileShared(schema.SharedPrefix + "error-envelope.schema.json")
	require.NoError(t, err)

	res, out := e.do(t, "POST", "/api/v1/tools/projects.create_project", e.fullA, `{"name":"Launch"}`, nil)
	require.Equal(t, 200, res.StatusCode, "%v", out)
	e.project = out["project"].(map[string]any)["project_id"].(string)
	return e
}

// do sends a request and decodes the JSON body. Every error response is
// checked against the envelope's schema here, so no test can forget to.
func (e *env) do(t *testing.T, method, path, key, body string, headers map[string]string) (*http.Response, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, e.url+path, rd)
	require.NoError(t, err)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	var out map[string]any
	if len(raw) > 0 && method != http.MethodHead {
		require.NoError(t, json.Unmarshal(raw, &out), "%s %s: body is not a JSON object: %s", method, path, raw)
	}
	if res.StatusCode >= 400 {
		v, err := schema.Decode(raw, 64)
		require.NoError(t, err)
		require.Empty(t, e.envelope.Validate(v), "%s %s: error body breaks the envelope schema: %s", method, path, raw)
		require.Equal(t, float64(res.StatusCode), out["code"], "envelope code is the status")
		require.Equal(t, "application/json", res.Header.Get("Content-Type"))
	}
	return res, out
}

// locs returns the loc of each envelope error joined with dots.
func locs(out map[string]any) []string {
	var l []string
	for _, e := range out["errors"].([]any) {
		var parts []string
		for _, p := range e.(map[string]any)["loc"].([]any) {
			parts = append(parts, p.(string))
		}
		l = append(l, strings.Join(parts, "."))
	}
	return l
}

// names lists the capabilities whose shown version has scope ("" for all),
// in name order.
func (e *env) names(scope capability.Scope) []string {
	var out []string
	for _, name := range e.reg.Names() {
		v := e.reg.Latest(name)
		if v != nil && (scope == "" || v.Manifest.Scope == scope) {
			out = append(out, name)
		}
	}
	return out
}
