package transfer_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/capd-dev/capd/internal/capability"
	"github.com/capd-dev/capd/internal/store/pgtest"
	"github.com/capd-dev/capd/internal/store/postgres"
	"github.com/capd-dev/capd/internal/store/transfer"
	"github.com/capd-dev/capd/internal/store/transfer/transfertest"
)

// env is a populated data directory and an empty PostgreSQL database.
type env struct {
	f   *transfertest.Fixture
	src *transfer.Source
	dst *postgres.DB
	dsn string
}

// newEnv populates a data directory with o and opens it and a fresh
// database; both close when t ends. The target's clock is the fixture's,
// so expiry is judged at the same time on both sides.
func newEnv(t *testing.T, o transfertest.Options) *env {
	t.Helper()
	ctx := context.Background()
	f := transfertest.Populate(t, t.TempDir(), o)
	src, err := transfer.OpenSource(ctx, f.Dir)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, src.Close()) })
	dsn := pgtest.DSN(t)
	dst, err := postgres.Open(ctx, dsn, postgres.Options{Now: f.Clock.Now})
	require.NoError(t, err)
	e := &env{f: f, src: src, dst: dst, dsn: dsn}
	// e.dst, whichever it is by then: reset replaces it.
	t.Cleanup(func() { e.dst.Close() })
	return e
}

// migrate runs Migrate and requires a report where everything matches.
func (e *env) migrate(t *testing.T, opts transfer.Options) *transfer.Report {
	t.Helper()
	r, err := transfer.Migrate(context.Background(), e.src, e.dst, opts)
	require.NoError(t, err)
	requireOK(t, r)
	return r
}

// requireOK fails t with the report's text unless everything matched.
func requireOK(t *testing.T, r *transfer.Report) {
	t.Helper()
	if !r.OK() {
		var b strings.Builder
		_ = r.WriteText(&b)
		t.Fatalf("report has mismatches:\n%s", b.String())
	}
}

// fileHashes returns the SHA-256 of every file under dir but SQLite's
// shared-memory WAL index (-shm), which every reader updates: it holds
// locks and an index of the WAL, not data.
func fileHashes(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	require.NoError(t, filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		if strings.HasSuffix(path, "-shm") {
			out[rel] = "(shm)"
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		out[rel] = hex.EncodeToString(sum[:])
		return nil
	}))
	return out
}

// tenantData is everything of one tenant, read through the store API.
type tenantData struct {
	Projects  []*capability.Project
	Staff     []*capability.Staff
	Tasks     []*capability.Task
	Details   []*capability.TaskDetails
	Actions   []*capability.TaskAction
	Runs      []*capability.TaskRun
	Logs      []*capability.RunLogEntry
	Artifacts []*capability.RunArtifact
	TaskTypes []*capability.TaskType
	Results   []*capability.IdempotentResult
}

// readTenant reads all of a tenant's data through s, with every time
// truncated to the microsecond: the one difference the engines are allowed.
func readTenant(t *testing.T, s capability.TenantStore, slug string) *tenantData {
	t.Helper()
	ctx := context.Background()
	d := &tenantData{}
	require.NoError(t, s.View(ctx, func(tx capability.Tx) error {
		d.Projects = pages(t, func(p capability.Page) ([]*capability.Project, error) {
			return tx.FindProjects(ctx, capability.ProjectFilter{Page: p})
		}, func(p *capability.Project) string { return p.ID })
		d.Staff = pages(t, func(p capability.Page) ([]*capability.Staff, error) {
			return tx.FindStaff(ctx, capability.StaffFilter{Page: p})
		}, func(s *capability.Staff) string { return s.ID })
		d.Tasks = pages(t, func(p capability.Page) ([]*capability.Task, error) {
			return tx.FindTasks(ctx, capability.TaskFilter{Page: p})
		}, func(t *capability.Task) string { return t.ID })
		for _, task := range d.Tasks {
			one, err := tx.FindTaskByID(ctx, task.ID)
			require.NoError(t, err)
			require.Equal(t, task, one)
			if det, err := tx.FindTaskDetails(ctx, task.ID); err == nil {
				d.Details = append(d.Details, det)
			} else {
				require.ErrorIs(t, err, capability.ErrNotFound)
			}
			d.Actions = append(d.Actions, pages(t, func(p capability.Page) ([]*capability.TaskAction, error) {
				return tx.FindTaskActions(ctx, task.ID, p)
			}, func(a *capability.TaskAction) string { return a.ID })...)
			runs := pages(t, func(p capability.Page) ([]*capability.TaskRun, error) {
				return tx.FindTaskRuns(ctx, task.ID, p)
			}, func(r *capability.TaskRun) string { return r.ID })
			d.Runs = append(d.Runs, runs...)
			for _, r := range runs {
				logs, err := tx.FindRunLog(ctx, r.ID, 0, 1000)
				require.NoError(t, err)
				d.Logs = append(d.Logs, logs...)
				list, err := tx.FindRunArtifacts(ctx, r.ID)
				require.NoError(t, err)
				for _, a := range list {
					full, err := tx.FindRunArtifactByID(ctx, a.ID)
					require.NoError(t, err)
					d.Artifacts = append(d.Artifacts, full)
				}
			}
		}
		var err error
		d.TaskTypes, err = tx.FindTaskTypes(ctx, "")
		require.NoError(t, err)
		r, err := tx.FindIdempotentResult(ctx, "idem-"+slug)
		require.NoError(t, err)
		d.Results = append(d.Results, r)
		return nil
	}))
	truncateTimes(reflect.ValueOf(d))
	return d
}

// pages reads every page of a listing that returns up to Limit+1 rows.
func pages[T any](t *testing.T, fetch func(capability.Page) ([]*T, error), id func(*T) string) []*T {
	t.Helper()
	const limit = 50
	var out []*T
	p := capability.Page{Limit: limit}
	for {
		rows, err := fetch(p)
		require.NoError(t, err)
		if len(rows) <= limit {
			return append(out, rows...)
		}
		out = append(out, rows[:limit]...)
		p.AfterID = id(rows[limit-1])
	}
}

// truncateTimes truncates, in place, every time.Time reachable from v
// through pointers, slices, maps of pointers and struct fields to the
// microsecond, in UTC.
func truncateTimes(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			truncateTimes(v.Elem())
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			truncateTimes(v.Index(i))
		}
	case reflect.Struct:
		if tm, ok := v.Interface().(time.Time); ok {
			if v.CanSet() {
				v.Set(reflect.ValueOf(tm.UTC().Truncate(time.Microsecond)))
			}
			return
		}
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				truncateTimes(v.Field(i))
			}
		}
	}
}

// truncated returns a copy of a value with its times truncated.
func truncated[T any](v T) T {
	truncateTimes(reflect.ValueOf(&v))
	return v
}
