package transfer_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/capd-dev/capd/internal/capability"
	"github.com/capd-dev/capd/internal/store/postgres"
	"github.com/capd-dev/capd/internal/store/sqlite"
	"github.com/capd-dev/capd/internal/store/transfer"
	"github.com/capd-dev/capd/internal/store/transfer/transfertest"
)

// TestMigrateMovesEverything copies a data directory with every kind of
// row and proves the copy three ways: the report's counts and checksums,
// every entity read through both stores' APIs, and keys made in SQLite
// authenticating against PostgreSQL. The source stays byte for byte as it
// was, and no tenant's rows reach another tenant's schema.
func TestMigrateMovesEverything(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, transfertest.Options{})
	before := fileHashes(t, e.f.Dir)
	r := e.migrate(t, transfer.Options{Jobs: 2})

	t.Run("SourceUnchanged", func(t *testing.T) {
		assert.Equal(t, before, fileHashes(t, e.f.Dir), "the source's files (but the -shm index) are unchanged and none was added")
	})

	t.Run("EveryTableHasRowsAndCounts", func(t *testing.T) {
		// The fixture must exercise every table, or a checksum match
		// proves nothing about it.
		rows := map[string]int64{}
		for _, u := range r.Units {
			for _, tc := range u.Tables {
				rows[strings.TrimPrefix(tc.Table, "control.")] += tc.SourceRows
			}
		}
		for _, tb := range slices.Concat(transfer.ControlTables, transfer.TenantTables) {
			assert.Positive(t, rows[tb.Name], "the fixture has no rows in %s", tb.Name)
		}
		for table, n := range e.f.Rows {
			assert.EqualValues(t, n, rows[table], table)
		}
		assert.Positive(t, r.Truncated, "the fixture's times carry nanoseconds")
		assert.EqualValues(t, r.Verified, r.Copied, "every copied row was verified")
	})

	sq, err := sqlite.Open(ctx, sqlite.Options{Dir: e.f.Dir, Now: e.f.Clock.Now})
	require.NoError(t, err)
	defer sq.Close()
	pg := e.dst

	t.Run("KeysAuthenticate", func(t *testing.T) {
		for name, token := range e.f.Tokens {
			want, wantErr := sq.Control().Authenticate(ctx, token)
			got, gotErr := pg.Control().Authenticate(ctx, token)
			if wantErr != nil {
				require.Error(t, gotErr, name)
				assert.Equal(t, wantErr.Error(), gotErr.Error(), name)
				continue
			}
			require.NoError(t, gotErr, name)
			assert.Equal(t, truncated(want), got, name)
		}
		live, err := pg.Control().Authenticate(ctx, e.f.Tokens["live"])
		require.NoError(t, err)
		assert.Equal(t, e.f.Tenants[0], live.Tenant)
		pinned, err := pg.Control().Authenticate(ctx, e.f.Tokens["pinned"])
		require.NoError(t, err)
		assert.Equal(t, e.f.Pins, pinned.Pins)
		for _, name := range []string{"revoked", "expired"} {
			_, err := pg.Control().Authenticate(ctx, e.f.Tokens[name])
			require.Error(t, err)
			assert.Contains(t, err.Error(), name)
		}
		for _, slug := range append(slices.Clone(e.f.Tenants), e.f.Idle) {
			want, err := sq.Control().ListKeys(ctx, slug)
			require.NoError(t, err)
			got, err := pg.Control().ListKeys(ctx, slug)
			require.NoError(t, err)
			assert.Equal(t, truncated(want), got, "keys of %s, with last use", slug)
		}
	})

	t.Run("ControlData", func(t *testing.T) {
		wantT, err := sq.Control().ListTenants(ctx)
		require.NoError(t, err)
		gotT, err := pg.Control().ListTenants(ctx)
		require.NoError(t, err)
		assert.Equal(t, truncated(wantT), gotT)

		wantC, err := sq.Control().ListCalls(ctx, "", time.Time{}, 10000)
		require.NoError(t, err)
		gotC, err := pg.Control().ListCalls(ctx, "", time.Time{}, 10000)
		require.NoError(t, err)
		assert.Equal(t, truncated(wantC), gotC)
		assert.True(t, slices.ContainsFunc(gotC, func(c capability.CallRecord) bool { return c.Duration < 0 }), "a negative duration survives")
		assert.True(t, slices.ContainsFunc(gotC, func(c capability.CallRecord) bool { return c.Replayed }), "a replay survives")

		f := capability.ConformanceFilter{Limit: 10000}
		wantR, err := sq.Control().ListConformance(ctx, f)
		require.NoError(t, err)
		gotR, err := pg.Control().ListConformance(ctx, f)
		require.NoError(t, err)
		assert.Equal(t, truncated(wantR), gotR)

		for _, owner := range e.f.Tenants {
			sf := capability.SetFilter{Owner: owner, WithPublic: true}
			wantS, err := sq.Control().ListSets(ctx, sf)
			require.NoError(t, err)
			gotS, err := pg.Control().ListSets(ctx, sf)
			require.NoError(t, err)
			assert.Equal(t, truncated(wantS), gotS, "sets seen by %s", owner)
		}
	})

	t.Run("TenantDataReadsAlike", func(t *testing.T) {
		for _, slug := range e.f.Tenants {
			s, err := sq.Tenants().Tenant(ctx, slug)
			require.NoError(t, err)
			p, err := pg.Tenants().Tenant(ctx, slug)
			require.NoError(t, err)
			want, got := readTenant(t, s, slug), readTenant(t, p, slug)
			require.Len(t, got.Tasks, len(want.Tasks))
			assert.Equal(t, want, got, slug)
		}
		// The tenant without a database gets its schema on first use,
		// as it would have got its file.
		idle, err := pg.Tenants().Tenant(ctx, e.f.Idle)
		require.NoError(t, err)
		require.NoError(t, idle.View(ctx, func(tx capability.Tx) error {
			tasks, err := tx.FindTasks(ctx, capability.TaskFilter{})
			assert.Empty(t, tasks)
			return err
		}))
	})

	t.Run("TenantsStayApart", func(t *testing.T) {
		// Every id of one tenant is unknown to every other tenant's store,
		// and no schema holds an id of another tenant.
		owner := map[string]string{}
		for _, slug := range e.f.Tenants {
			s, err := pg.Tenants().Tenant(ctx, slug)
			require.NoError(t, err)
			d := readTenant(t, s, slug)
			for _, task := range d.Tasks {
				owner[task.ID] = slug
			}
			for _, p := range d.Projects {
				owner[p.ID] = slug
			}
			for _, r := range d.Runs {
				owner[r.ID] = slug
			}
		}
		for _, slug := range e.f.Tenants {
			s, err := pg.Tenants().Tenant(ctx, slug)
			require.NoError(t, err)
			require.NoError(t, s.View(ctx, func(tx capability.Tx) error {
				for id, o := range owner {
					if o == slug {
						continue
					}
					var err error
					switch {
					case strings.HasPrefix(id, sqlite.PrefixTask):
						_, err = tx.FindTaskByID(ctx, id)
					case strings.HasPrefix(id, sqlite.PrefixProject):
						_, err = tx.FindProjectByID(ctx, id)
					default:
						_, err = tx.FindTaskRunByID(ctx, id)
					}
					assert.ErrorIs(t, err, capability.ErrNotFound, "%s of %s seen from %s", id, o, slug)
				}
				return nil
			}))
			for _, table := range []string{"projects", "tasks", "task_runs"} {
				rows, err := pg.Pool().Query(ctx, "SELECT id FROM "+pgx.Identifier{postgres.TenantSchema(slug), table}.Sanitize())
				require.NoError(t, err)
				ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
				require.NoError(t, err)
				for _, id := range ids {
					assert.Equal(t, slug, owner[id], "%s.%s holds %s", slug, table, id)
				}
			}
		}
	})

	t.Run("SchemaAsTheMigrationsMadeIt", func(t *testing.T) {
		// The copy sets foreign keys and indexes aside while it loads;
		// afterwards the schema must be exactly what a tenant's first use
		// creates.
		require.NoError(t, pg.Control().CreateTenant(ctx, &capability.Tenant{Slug: "fresh-tenant"}))
		_, err := pg.Tenants().Tenant(ctx, "fresh-tenant")
		require.NoError(t, err)
		assert.Equal(t, schemaDefinition(t, pg, "fresh-tenant"), schemaDefinition(t, pg, e.f.Tenants[0]))
	})

	t.Run("TargetServesWrites", func(t *testing.T) {
		// The copied ids do not collide with the ones PostgreSQL hands out
		// next: the identity sequences were moved past them.
		at := e.f.Clock.Now()
		require.NoError(t, pg.Control().RecordCalls(ctx, []capability.CallRecord{{At: at, Tenant: e.f.Tenants[0], Capability: "projects.get_task", Outcome: "ok"}}))
		require.NoError(t, pg.Control().RecordConformance(ctx, []capability.ConformanceResult{{RunID: "after", Provider: "p", Capability: "c",
			Version: "1.0.0", CaseID: "x", Kind: "happy", Outcome: "pass", StartedAt: at}}))
		s, err := pg.Tenants().Tenant(ctx, e.f.Tenants[0])
		require.NoError(t, err)
		require.NoError(t, s.Update(ctx, func(tx capability.Tx) error {
			ps, err := tx.FindProjects(ctx, capability.ProjectFilter{})
			if err != nil {
				return err
			}
			return tx.CreateTask(ctx, &capability.Task{ProjectID: ps[0].ID, Title: "written after the move"})
		}))
		// Verify compares what was moved: rows written afterwards beside
		// the logs' id ranges are not differences.
		v, err := transfer.Verify(ctx, e.src, e.dst, 1)
		require.NoError(t, err)
		for _, u := range v.Units {
			for _, tc := range u.Tables {
				if u.Name == e.f.Tenants[0] && tc.Table == "tasks" {
					assert.False(t, tc.Match(), "a task written afterwards differs from the source")
					continue
				}
				assert.True(t, tc.Match(), "%s %s", u.Name, tc.Table)
			}
		}
	})
}

// schemaDefinition lists the constraints and indexes of slug's schema,
// with the schema's name taken out, so two tenants' schemas compare.
func schemaDefinition(t *testing.T, db *postgres.DB, slug string) []string {
	t.Helper()
	schema := postgres.TenantSchema(slug)
	rows, err := db.Pool().Query(context.Background(), `
		SELECT conrelid::regclass::text || ' ' || conname || ' ' || pg_get_constraintdef(oid) FROM pg_constraint WHERE connamespace = $1::regnamespace
		UNION ALL
		SELECT indexdef FROM pg_indexes WHERE schemaname = $2`, pgx.Identifier{schema}.Sanitize(), schema)
	require.NoError(t, err)
	defs, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	quoted := pgx.Identifier{schema}.Sanitize()
	for i, d := range defs {
		defs[i] = strings.ReplaceAll(strings.ReplaceAll(d, quoted, "SCHEMA"), schema, "SCHEMA")
	}
	slices.Sort(defs)
	require.NotEmpty(t, defs)
	return defs
}

// TestMigrateRefusesATargetInTheWay runs the same migrate twice: the
// second refuses, naming the tenants and --resume, and writes nothing;
// resumed, it verifies and keeps what is there.
func TestMigrateRefusesATargetInTheWay(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, transfertest.Options{Tenants: 2, Tasks: 6})
	first := e.migrate(t, transfer.Options{})

	_, err := transfer.Migrate(ctx, e.src, e.dst, transfer.Options{})
	var refused *transfer.RefusedError
	require.ErrorAs(t, err, &refused)
	for _, slug := range e.f.Tenants {
		assert.Contains(t, err.Error(), slug)
	}
	assert.Contains(t, err.Error(), "--resume")
	assert.Contains(t, err.Error(), "calls has")

	again := e.migrate(t, transfer.Options{Resume: true})
	assert.Zero(t, again.Copied, "nothing left to copy")
	for _, u := range again.Units {
		assert.Contains(t, u.Status, "resumed", u.Name)
	}
	assert.Equal(t, first.Verified, again.Verified)

	// Only the copy's own tenant in the way is refused too.
	other := newEnv(t, transfertest.Options{Tenants: 1, Tasks: 2})
	_, err = transfer.Migrate(ctx, other.src, e.dst, transfer.Options{})
	require.ErrorAs(t, err, &refused)
	assert.Contains(t, err.Error(), other.f.Tenants[0])
}

// TestMigrateResumesAfterAnInterruption stops a migrate after its first
// tenant (as Ctrl-C would) and resumes it: the committed tenant is complete,
// the others absent, and the resumed run finishes with everything matching.
func TestMigrateResumesAfterAnInterruption(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	e := newEnv(t, transfertest.Options{Tenants: 3, Tasks: 6})
	progress := &cancelAfter{lines: 1, cancel: cancel}
	_, err := transfer.Migrate(ctx, e.src, e.dst, transfer.Options{Progress: progress})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "--resume")
	assert.Contains(t, err.Error(), "1 tenant(s) committed")

	ts, err := e.dst.Control().ListTenants(context.Background())
	require.NoError(t, err)
	require.Len(t, ts, 1, "one tenant committed, whole")
	assert.Equal(t, e.f.Tenants[0], ts[0].Slug)

	r := e.migrate(t, transfer.Options{Resume: true})
	assert.Contains(t, r.Units[0].Status, "resumed")
	assert.Equal(t, "copied; verified", r.Units[1].Status)
}

// cancelAfter cancels a context once it has received lines progress lines.
type cancelAfter struct {
	lines  int
	cancel func()
}

func (c *cancelAfter) Write(p []byte) (int, error) {
	c.lines -= bytes.Count(p, []byte("\n"))
	if c.lines <= 0 {
		c.cancel()
	}
	return len(p), nil
}

// TestMigrateFailureLeavesNoHalfTenant gives the last tenant a row
// PostgreSQL cannot store: the copy stops naming the row and column, the
// earlier tenants are complete, and the failed tenant has left nothing in
// the control schema or its own.
func TestMigrateFailureLeavesNoHalfTenant(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, transfertest.Options{Tenants: 3, Tasks: 6})
	last := e.f.Tenants[2]
	sq, err := sqlite.Open(ctx, sqlite.Options{Dir: e.f.Dir})
	require.NoError(t, err)
	s, err := sq.Tenants().Tenant(ctx, last)
	require.NoError(t, err)
	var bad string
	require.NoError(t, s.Update(ctx, func(tx capability.Tx) error {
		ps, err := tx.FindProjects(ctx, capability.ProjectFilter{})
		if err != nil {
			return err
		}
		task := &capability.Task{ProjectID: ps[0].ID, Title: "a NUL \x00 inside"}
		err = tx.CreateTask(ctx, task)
		bad = task.ID
		return err
	}))
	require.NoError(t, sq.Close())

	_, err = transfer.Migrate(ctx, e.src, e.dst, transfer.Options{})
	require.Error(t, err)
	for _, want := range []string{"tenant " + last, "tasks", bad, "column title", "NUL", "2 tenant(s) committed"} {
		assert.Contains(t, err.Error(), want)
	}
	var n int
	require.NoError(t, e.dst.Pool().QueryRow(ctx, "SELECT count(*) FROM capd_control.tenants WHERE slug = $1", last).Scan(&n))
	assert.Zero(t, n, "the tenant row rolled back")
	require.NoError(t, e.dst.Pool().QueryRow(ctx, "SELECT count(*) FROM capd_control.api_keys WHERE tenant = $1", last).Scan(&n))
	assert.Zero(t, n, "its keys rolled back")
	require.NoError(t, e.dst.Pool().QueryRow(ctx, "SELECT count(*) FROM "+pgx.Identifier{postgres.TenantSchema(last), "projects"}.Sanitize()).Scan(&n))
	assert.Zero(t, n, "its rows rolled back; the schema is empty, as a first use would create it")

	v, err := transfer.Verify(ctx, e.src, e.dst, 1)
	require.NoError(t, err)
	for _, u := range v.Units {
		if u.Name == e.f.Tenants[0] || u.Name == e.f.Tenants[1] {
			assert.True(t, u.OK(), "%s was committed whole", u.Name)
		}
	}
}

// TestVerifyReportsTampering changes the target after a clean copy, one row
// at a time, and expects exactly the changed table to be reported.
func TestVerifyReportsTampering(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, transfertest.Options{Tenants: 2, Tasks: 6})
	e.migrate(t, transfer.Options{})
	slug := e.f.Tenants[0]
	schema := pgx.Identifier{postgres.TenantSchema(slug)}.Sanitize()

	for _, tc := range []struct {
		name, sql, table string
		rowsDiffer       bool
	}{
		{"OneTitle", "UPDATE " + schema + ".tasks SET title = title || '!' WHERE id = (SELECT min(id) FROM " + schema + ".tasks)", "tasks", false},
		{"OneMicrosecond", "UPDATE " + schema + ".task_run_logs SET at = at + interval '1 microsecond' WHERE seq = 3", "task_run_logs", false},
		{"DeletedArtifact", "DELETE FROM " + schema + ".task_run_artifacts WHERE size = 0", "task_run_artifacts", true},
		{"UnrevokedKey", "UPDATE capd_control.api_keys SET revoked_at = NULL WHERE revoked_at IS NOT NULL", "control.api_keys", false},
		{"NegativeDurationLost", "UPDATE capd_control.calls SET duration_us = -duration_us WHERE duration_us < 0", "control.calls", false},
		{"EmptyDescription", "UPDATE " + schema + ".projects SET description = 'x' WHERE description = ''", "projects", false},
		{"ByteInBlob", "UPDATE " + schema + ".task_run_artifacts SET content = set_byte(content, 0, 1) WHERE name = 'blob.bin'", "task_run_artifacts", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tag, err := e.dst.Pool().Exec(ctx, tc.sql)
			require.NoError(t, err)
			require.Positive(t, tag.RowsAffected())
			r, err := transfer.Verify(ctx, e.src, e.dst, 1)
			require.NoError(t, err)
			var out bytes.Buffer
			require.NoError(t, r.WriteText(&out))
			assert.False(t, r.OK())
			assert.Equal(t, 1, r.Mismatches(), out.String())
			assert.Contains(t, out.String(), "MISMATCH")
			for _, u := range r.Units {
				for _, c := range u.Tables {
					if c.Table == tc.table && !c.Match() {
						assert.Equal(t, tc.rowsDiffer, c.SourceRows != c.TargetRows)
						assert.NotEqual(t, c.SourceSum, c.TargetSum)
					}
				}
			}
			// Put the target back for the next case: a fresh copy.
			e.reset(t)
		})
	}
}

// reset empties the target and copies the source into it again.
func (e *env) reset(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	var schemas []string
	rows, err := e.dst.Pool().Query(ctx, "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'tenant\\_%' OR nspname = 'capd_control'")
	require.NoError(t, err)
	schemas, err = pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	for _, s := range schemas {
		_, err := e.dst.Pool().Exec(ctx, "DROP SCHEMA "+pgx.Identifier{s}.Sanitize()+" CASCADE")
		require.NoError(t, err)
	}
	e.dst.Close()
	e.dst, err = postgres.Open(ctx, e.dsn, postgres.Options{Now: e.f.Clock.Now})
	require.NoError(t, err)
	e.migrate(t, transfer.Options{})
}

// TestOpenSourceErrors names what is wrong with a source that is not a
// data directory capd can read.
func TestOpenSourceErrors(t *testing.T) {
	ctx := context.Background()
	_, err := transfer.OpenSource(ctx, "/nonexistent/capd-data")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "does not exist")

	_, err = transfer.OpenSource(ctx, t.TempDir())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "no control.db")
}

// TestMigrateThroughput copies a data directory of realistic size and
// logs the rates; CAPD_MIGRATE_TENANTS and CAPD_MIGRATE_TASKS size it
// (default 10 tenants of 300 tasks, to keep make test quick).
func TestMigrateThroughput(t *testing.T) {
	tenants, tasks := envInt(t, "CAPD_MIGRATE_TENANTS", 10), envInt(t, "CAPD_MIGRATE_TASKS", 300)
	start := time.Now()
	e := newEnv(t, transfertest.Options{Tenants: tenants, Tasks: tasks})
	t.Logf("populated %d tenants x %d tasks in %s", tenants, tasks, time.Since(start).Round(time.Millisecond))
	for _, jobs := range jobsToMeasure(t) {
		r := e.migrate(t, transfer.Options{Jobs: jobs})
		t.Logf("jobs=%d: copied %d rows in %s (%.0f rows/s); verified %d rows in %s (%.0f rows/s)", jobs,
			r.Copied, r.CopyTime.Round(time.Millisecond), float64(r.Copied)/r.CopyTime.Seconds(),
			r.Verified, r.VerifyTime.Round(time.Millisecond), float64(r.Verified)/r.VerifyTime.Seconds())
		e.clear(t)
	}
}

// clear empties the target, keeping its control schema.
func (e *env) clear(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	_, err := e.dst.Pool().Exec(ctx, "TRUNCATE capd_control.calls, capd_control.conformance_results, capd_control.capability_sets, capd_control.api_keys, capd_control.tenants")
	require.NoError(t, err)
	for _, slug := range append(slices.Clone(e.f.Tenants), e.f.Idle) {
		_, err := e.dst.Pool().Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{postgres.TenantSchema(slug)}.Sanitize()+" CASCADE")
		require.NoError(t, err)
	}
}

// envInt reads a positive integer from the environment, or def.
func envInt(t *testing.T, name string, def int) int {
	t.Helper()
	v, ok := os.LookupEnv(name)
	if !ok {
		return def
	}
	var n int
	_, err := fmt.Sscan(v, &n)
	require.NoError(t, err, name)
	require.Positive(t, n, name)
	return n
}

// jobsToMeasure is the --jobs values TestMigrateThroughput runs:
// CAPD_MIGRATE_JOBS (comma-separated), or 1 and 4 (the command's default).
func jobsToMeasure(t *testing.T) []int {
	v, ok := os.LookupEnv("CAPD_MIGRATE_JOBS")
	if !ok {
		return []int{1, 4}
	}
	var out []int
	for _, f := range strings.Split(v, ",") {
		var n int
		_, err := fmt.Sscan(f, &n)
		require.NoError(t, err, "CAPD_MIGRATE_JOBS")
		out = append(out, n)
	}
	return out
}
