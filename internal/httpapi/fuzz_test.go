package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/capd-dev/capd/capabilities"
	"github.com/capd-dev/capd/internal/capability"
	"github.com/capd-dev/capd/internal/httpapi"
	"github.com/capd-dev/capd/internal/invoke"
	"github.com/capd-dev/capd/internal/providers/projectkit"
	"github.com/capd-dev/capd/internal/registry"
	"github.com/capd-dev/capd/internal/schema"
	"github.com/capd-dev/capd/internal/store/sqlite"
	"github.com/capd-dev/capd/schemas"
)

// toolAPIStatuses are the statuses POST /api/v1/tools/projects.create_task
// may answer a caller with a valid full-scope key: success, a body that is
// not JSON, an unknown project, a body over the limit, and input that
// breaks the schema or the taxonomy. A 500 is never one of them.
var toolAPIStatuses = []int{
	http.StatusOK, http.StatusBadRequest, http.StatusNotFound,
	http.StatusRequestEntityTooLarge, http.StatusUnprocessableEntity,
}

// FuzzToolAPI posts arbitrary bytes as the body of a create_task call
// through the HTTP API's handler (no network). The answer must be one of
// toolAPIStatuses, an error must be the canonical envelope with the status
// as its code, and a success must satisfy the capability's output schema.
func FuzzToolAPI(f *testing.F) {
	ctx := context.Background()
	reg, err := registry.Load(capabilities.FS, schemas.FS)
	if err != nil {
		f.Fatal(err)
	}
	if err := reg.Bind(projectkit.New()); err != nil {
		f.Fatal(err)
	}
	var n atomic.Uint64
	db, err := sqlite.Open(ctx, sqlite.Options{Dir: f.TempDir(), NewID: func(prefix string) string {
		return fmt.Sprintf("%s_%032x", prefix, n.Add(1)) // the same IDs in every fuzz worker
	}})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { db.Close() })
	if err := db.Control().CreateTenant(ctx, &capability.Tenant{Slug: "acme"}); err != nil {
		f.Fatal(err)
	}
	key, _, err := db.Control().CreateKey(ctx, "acme", capability.AllScopes, time.Time{})
	if err != nil {
		f.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	inv := &invoke.Invoker{Registry: reg, Tenants: db.Tenants(), Logger: logger}
	api := &httpapi.API{Registry: reg, Invoker: inv, Control: db.Control(), Logger: logger,
		Guard: &httpapi.Guard{Keys: db.Control(), Logger: logger, MaxBody: 64 << 10}}
	h := api.Handler()
	compiler, err := schema.NewCompiler(schemas.FS)
	if err != nil {
		f.Fatal(err)
	}
	envelope, err := compiler.CompileShared(schema.SharedPrefix + "error-envelope.schema.json")
	if err != nil {
		f.Fatal(err)
	}
	createTask, err := reg.Resolve(capability.Ref{Name: "projects.create_task"})
	if err != nil {
		f.Fatal(err)
	}

	post := func(body []byte) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, "/api/v1/tools/projects.create_task", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	rec := post(nil)
	if rec.Code != http.StatusUnprocessableEntity {
		f.Fatalf("set-up: an empty body should be 422, got %d: %s", rec.Code, rec.Body)
	}
	req := httptest.NewRequest(http.MethodPost, "/api/v1/tools/projects.create_project", strings.NewReader(`{"name":"Fuzz"}`))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var created struct {
		Project struct {
			ID string `json:"project_id"`
		} `json:"project"`
	}
	if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &created) != nil {
		f.Fatalf("set-up: create_project: %d %s", rec.Code, rec.Body)
	}
	project := created.Project.ID // prj_…01 in every worker

	for _, s := range []string{
		`{"project_id":"` + project + `","title":"Write the launch post"}`,
		`{"project_id":"` + project + `","title":"Typed","category":"engineering","task_type":"bug_fix","budget_usd":3,"labels":["a"],"requirements":{}}`,
		`{"project_id":"` + project + `","title":"Typed","category":"engineering","task_type":"astrology"}`,
		`{"project_id":"` + project + `","title":"  "}`,
		`{"project_id":"` + project + `","title":"x","due_date":"2026-13-01","expires_at":"yesterday"}`,
		`{"project_id":"prj_00000000000000000000000000000000","title":"Orphan"}`,
		`{"project_id":"` + project + `","title":"x","tenant_id":"globex"}`,
		``,
		`   `,
		`null`,
		`[]`,
		`"str"`,
		`{"project_id":`,
		`{} {}`,
		`{"title":"x","title":"y","project_id":"` + project + `"}`,
		strings.Repeat(`[`, 10000) + strings.Repeat(`]`, 10000),
		`{"project_id":"` + project + `","title":"\ud800"}`,
		"{\"project_id\":\"" + project + "\",\"title\":\"\xff\"}",
		`{"project_id":"` + project + `","title":"x","budget_usd":1e400}`,
		`{"project_id":"` + project + `","title":"` + strings.Repeat("x", 70<<10) + `"}`,
	} {
		f.Add([]byte(s))
	}

	f.Fuzz(func(t *testing.T, body []byte) {
		rec := post(body)
		if !slices.Contains(toolAPIStatuses, rec.Code) {
			t.Fatalf("status %d for %q: %s", rec.Code, body, rec.Body)
		}
		if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
			t.Fatalf("Content-Type %q for %q", ct, body)
		}
		val, err := schema.Decode(rec.Body.Bytes(), 64)
		if err != nil {
			t.Fatalf("status %d: body is not JSON (%v): %q", rec.Code, err, rec.Body)
		}
		if rec.Code == http.StatusOK {
			if issues := createTask.Output.Validate(val); len(issues) > 0 {
				t.Fatalf("success breaks the output schema: %v: %s", issues, rec.Body)
			}
			return
		}
		if issues := envelope.Validate(val); len(issues) > 0 {
			t.Fatalf("status %d: error body breaks the envelope schema: %v: %s", rec.Code, issues, rec.Body)
		}
		var env struct {
			Code int `json:"code"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &env); err != nil || env.Code != rec.Code {
			t.Fatalf("envelope code %d is not the status %d: %s", env.Code, rec.Code, rec.Body)
		}
	})
}
