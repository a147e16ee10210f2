package catalog_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/capd-dev/capd/capabilities"
	"github.com/capd-dev/capd/internal/capability"
	"github.com/capd-dev/capd/internal/catalog"
	"github.com/capd-dev/capd/internal/providers/projectkit"
	"github.com/capd-dev/capd/internal/registry"
	"github.com/capd-dev/capd/internal/store/sqlite"
	"github.com/capd-dev/capd/schemas"
)

// The demo's three provider instances, as in seed 001.
const (
	switchback = "projectkit:switchback-engineering"
	driftline  = "projectkit:driftline-design"
	atelier    = "projectkit:atelier-meridian"
)

// Recorded runs of the fixture: an older all-passing run, and a newer one
// in which driftline-design fails one create_task case. atelier-meridian
// never checks update_task, so its matrix cell is empty.
const (
	oldRun = "run_20260518T185300Z_0000aaaa"
	newRun = "run_20260518T195300Z_0000bbbb"
)

// maliciousMessage is the failing case's message: the pages must show it
// as text, never run it.
const maliciousMessage = `<script>alert("pwned")</script> expected error unknown_project, got ok`

// fixtureCases are the cases recorded for every capability version.
var fixtureCases = []struct{ id, kind string }{
	{"happy_path", "happy"},
	{"rejects_unknown_project", "rejection"},
	{"gen.missing_required.title", "generated"},
}

type fixture struct {
	handler http.Handler
	reg     *registry.Registry
	control capability.ControlStore
}

// newFixture builds the catalog over the real manifests, bound to
// projectkit, and a real control database holding two recorded runs.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	reg, control := newStores(t)

	now := time.Now().Truncate(time.Second)
	for _, run := range []struct {
		id      string
		started time.Time
	}{{oldRun, now.Add(-time.Hour)}, {newRun, now.Add(-time.Minute)}} {
		var results []capability.ConformanceResult
		at := run.started
		for _, provider := range []string{switchback, driftline, atelier} {
			for _, v := range reg.Versions() {
				m := v.Manifest
				if provider == atelier && m.Name == "projects.update_task" {
					continue
				}
				for i, c := range fixtureCases {
					r := capability.ConformanceResult{
						RunID: run.id, Provider: provider, Capability: m.Name, Version: m.Version,
						CaseID: c.id, Kind: c.kind, Outcome: capability.OutcomePass,
						Duration: time.Duration(30+i*400) * time.Millisecond, StartedAt: at,
					}
					if run.id == newRun && provider == driftline && m.Name == "projects.create_task" && c.id == "rejects_unknown_project" {
						r.Outcome = capability.OutcomeFail
						r.Message = maliciousMessage
					}
					results = append(results, r)
					at = at.Add(time.Millisecond)
				}
			}
		}
		require.NoError(t, control.RecordConformance(ctx, results))
	}

	return &fixture{handler: newCatalog(t, reg, control), reg: reg, control: control}
}

// newEmptyFixture is the catalog before any conformance run.
func newEmptyFixture(t *testing.T) http.Handler {
	t.Helper()
	reg, control := newStores(t)
	return newCatalog(t, reg, control)
}

func newStores(t *testing.T) (*registry.Registry, capability.ControlStore) {
	t.Helper()
	reg, err := registry.Load(capabilities.FS, schemas.FS)
	require.NoError(t, err)
	require.NoError(t, reg.Bind(projectkit.New()))
	db, err := sqlite.Open(context.Background(), sqlite.Options{Dir: t.TempDir()})
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	return reg, db.Control()
}

func newCatalog(t *testing.T, reg *registry.Registry, control capability.ControlStore) http.Handler {
	t.Helper()
	h, err := catalog.New(reg, control, catalog.Assets, slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.NoError(t, err)
	return h
}
