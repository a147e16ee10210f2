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
	"github.com/capd-dev/capd/internal/sets"
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

// The fixture's stored sets, all of tenant acme: two public ones (one with
// a misspelled member and a pin to a version that does not exist) and a
// private one the catalog must never show.
const (
	storedTenant  = "acme"
	triageSet     = "acme-triage"
	typoSet       = "acme-typos"
	privateSet    = "acme-secret-plans"
	privateMember = "projects.cancel_task" // in no public set
)

type fixture struct {
	handler http.Handler
	reg     *registry.Registry
	control capability.ControlStore
	sets    *sets.Service
}

// newFixture builds the catalog over the real manifests, bound to
// projectkit, and a real control database holding two recorded runs and
// acme's stored sets.
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

	require.NoError(t, control.CreateTenant(ctx, &capability.Tenant{Slug: storedTenant}))
	for _, set := range []*capability.CapabilitySet{
		{Name: triageSet, Description: "Look at tasks and move them along.", IsPublic: true, Source: "acme runbook", Tags: []string{"triage"},
			Members: []capability.SetMember{{Name: "projects.list_tasks"}, {Name: "projects.get_task", Version: "0.1.0"}, {Name: "projects.transition_task", Notes: "only to done"}}},
		{Name: typoSet, Description: "A set whose author cannot spell.", IsPublic: true,
			Members: []capability.SetMember{{Name: "projects.list_task"}, {Name: "projects.get_task", Version: "9.9.9"}, {Name: "projects.get_project"}}},
		{Name: privateSet, Description: "Nobody outside acme may see this.", IsPublic: false,
			Members: []capability.SetMember{{Name: privateMember}}},
	} {
		set.Owner, set.CreatedBy = storedTenant, "cli"
		require.NoError(t, control.CreateSet(ctx, set))
	}

	f := &fixture{reg: reg, control: control, sets: newSets(t, reg, control)}
	f.handler = newCatalogWithSets(t, reg, control, f.sets)
	return f
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

// newSets is the set service over reg's built-in sets and control's
// stored ones.
func newSets(t *testing.T, reg *registry.Registry, control capability.ControlStore) *sets.Service {
	t.Helper()
	builtIn, err := sets.LoadBuiltIn(capabilities.FS, reg)
	require.NoError(t, err)
	return &sets.Service{Store: control, Registry: reg, BuiltIn: builtIn}
}

func newCatalog(t *testing.T, reg *registry.Registry, control capability.ControlStore) http.Handler {
	t.Helper()
	return newCatalogWithSets(t, reg, control, newSets(t, reg, control))
}

func newCatalogWithSets(t *testing.T, reg *registry.Registry, control capability.ControlStore, s *sets.Service) http.Handler {
	t.Helper()
	h, err := catalog.New(reg, control, s, catalog.Assets, slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.NoError(t, err)
	return h
}
