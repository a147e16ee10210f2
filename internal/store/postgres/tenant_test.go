package postgres

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/capd-dev/capd/internal/capability"
	"github.com/capd-dev/capd/internal/store/pgtest"
)

// openTenantDB opens a DB on a fresh database with a fake clock; it closes
// when t ends.
func openTenantDB(t testing.TB) (*DB, *ctlClock, string) {
	t.Helper()
	dsn := pgtest.DSN(t)
	clock := &ctlClock{t: ctlEpoch}
	db, err := Open(context.Background(), dsn, Options{Now: clock.Now})
	require.NoError(t, err)
	t.Cleanup(db.Close)
	return db, clock, dsn
}

// newTenant registers slug and returns its store.
func newTenant(t testing.TB, db *DB, slug string) capability.TenantStore {
	t.Helper()
	ctx := context.Background()
	require.NoError(t, db.Control().CreateTenant(ctx, &capability.Tenant{Slug: slug}))
	s, err := db.Tenants().Tenant(ctx, slug)
	require.NoError(t, err)
	return s
}

// tnUpdate runs fn in a write transaction and requires it to succeed.
func tnUpdate(t testing.TB, s capability.TenantStore, fn func(capability.Tx) error) {
	t.Helper()
	require.NoError(t, s.Update(context.Background(), fn))
}

// tnView runs fn in a read transaction and requires it to succeed.
func tnView(t testing.TB, s capability.TenantStore, fn func(capability.Tx) error) {
	t.Helper()
	require.NoError(t, s.View(context.Background(), fn))
}

// tnFixture is a tenant with one project, one staff member and two tasks.
type tnFixture struct {
	store   capability.TenantStore
	project *capability.Project
	staff   *capability.Staff
	task    *capability.Task
	other   *capability.Task
}

func newTnFixture(t testing.TB, db *DB, slug string) tnFixture {
	t.Helper()
	ctx := context.Background()
	f := tnFixture{store: newTenant(t, db, slug)}
	f.project = &capability.Project{Name: "Website", Description: "about the website"}
	f.staff = &capability.Staff{Name: "ada", Email: "ada@example.com", Role: "engineer"}
	tnUpdate(t, f.store, func(tx capability.Tx) error {
		if err := tx.CreateProject(ctx, f.project); err != nil {
			return err
		}
		if err := tx.CreateStaff(ctx, f.staff); err != nil {
			return err
		}
		f.task = &capability.Task{ProjectID: f.project.ID, Title: "Ship it"}
		f.other = &capability.Task{ProjectID: f.project.ID, Title: "Other"}
		if err := tx.CreateTask(ctx, f.task); err != nil {
			return err
		}
		return tx.CreateTask(ctx, f.other)
	})
	return f
}

// tnCode returns the capability error code of err, "" if it has none.
func tnCode(err error) string {
	var e *capability.Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// tnPages walks a list method page by page as a caller does and returns
// every ID seen, in order, and the number of pages.
func tnPages(t testing.TB, limit int, fetch func(p capability.Page) []string) (all []string, pages int) {
	t.Helper()
	page := capability.Page{Limit: limit}
	for {
		got := fetch(page)
		require.LessOrEqual(t, len(got), limit+1)
		pages++
		if len(got) <= limit {
			return append(all, got...), pages
		}
		all = append(all, got[:limit]...)
		page.AfterID = got[limit-1]
		require.Less(t, pages, 1000, "pagination does not end")
	}
}

func tnIDs[T any](items []*T, id func(*T) string) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = id(it)
	}
	return out
}

func TestTenantStores(t *testing.T) {
	ctx := context.Background()
	db, _, dsn := openTenantDB(t)

	t.Run("OK", func(t *testing.T) {
		s := newTenant(t, db, "acme")
		tnView(t, s, func(tx capability.Tx) error {
			types, err := tx.FindTaskTypes(ctx, "")
			require.NoError(t, err)
			require.Len(t, types, 17, "the migration seeds the taxonomy")
			return nil
		})
		var schemas int
		require.NoError(t, db.pool.QueryRow(ctx,
			"SELECT count(*) FROM pg_namespace WHERE nspname = 'tenant_acme'").Scan(&schemas))
		require.Equal(t, 1, schemas)
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		_, err := db.Tenants().Tenant(ctx, "nobody")
		require.ErrorIs(t, err, capability.ErrNotFound)
		var schemas int
		require.NoError(t, db.pool.QueryRow(ctx,
			"SELECT count(*) FROM pg_namespace WHERE nspname = 'tenant_nobody'").Scan(&schemas))
		require.Zero(t, schemas, "an unknown tenant creates no schema")
	})

	t.Run("ErrInvalidSlug", func(t *testing.T) {
		for _, slug := range []string{"", "A", `x"; DROP SCHEMA capd_control CASCADE; --`, "a/b"} {
			_, err := db.Tenants().Tenant(ctx, slug)
			require.Equal(t, capability.CodeInvalidInput, tnCode(err), "slug %q", slug)
		}
	})

	t.Run("OKSlugWithHyphen", func(t *testing.T) {
		s := newTenant(t, db, "switchback-engineering")
		tnUpdate(t, s, func(tx capability.Tx) error {
			return tx.CreateProject(ctx, &capability.Project{Name: "Hyphenated"})
		})
	})

	t.Run("OKConcurrentFirstUseOnTwoNodes", func(t *testing.T) {
		// A second DB on the same database stands for a second node.
		node2, err := Open(ctx, dsn, Options{})
		require.NoError(t, err)
		defer node2.Close()
		require.NoError(t, db.Control().CreateTenant(ctx, &capability.Tenant{Slug: "busy"}))
		var wg sync.WaitGroup
		errs := make(chan error, 20)
		for i := range 20 {
			node := db
			if i%2 == 1 {
				node = node2
			}
			wg.Go(func() {
				s, err := node.Tenants().Tenant(ctx, "busy")
				if err == nil {
					err = s.Update(ctx, func(tx capability.Tx) error {
						return tx.CreateStaff(ctx, &capability.Staff{Name: fmt.Sprint("s", i)})
					})
				}
				errs <- err
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}
		s, err := db.Tenants().Tenant(ctx, "busy")
		require.NoError(t, err)
		tnView(t, s, func(tx capability.Tx) error {
			staff, err := tx.FindStaff(ctx, capability.StaffFilter{Page: capability.Page{Limit: 100}})
			require.NoError(t, err)
			require.Len(t, staff, 20)
			return nil
		})
	})
}

func TestTenantProjects(t *testing.T) {
	ctx := context.Background()
	db, clock, _ := openTenantDB(t)
	s := newTenant(t, db, "acme")

	var p *capability.Project
	t.Run("OK", func(t *testing.T) {
		want := clock.Peek()
		p = &capability.Project{Name: "Website", Description: "the public site"}
		tnUpdate(t, s, func(tx capability.Tx) error { return tx.CreateProject(ctx, p) })
		require.Regexp(t, `^prj_[0-9a-f]{32}$`, p.ID)
		require.Equal(t, want, p.CreatedAt)
		require.Equal(t, time.UTC, p.CreatedAt.Location())
		tnView(t, s, func(tx capability.Tx) error {
			got, err := tx.FindProjectByID(ctx, p.ID)
			require.NoError(t, err)
			require.Equal(t, p, got)
			got, err = tx.FindProjectByName(ctx, "WEBSITE")
			require.NoError(t, err)
			require.Equal(t, p.ID, got.ID)
			return nil
		})
	})

	t.Run("ErrDuplicateNameAnyCase", func(t *testing.T) {
		err := s.Update(ctx, func(tx capability.Tx) error {
			err := tx.CreateProject(ctx, &capability.Project{Name: "wEbSiTe"})
			require.Equal(t, capability.CodeAlreadyExists, tnCode(err))
			var e *capability.Error
			require.ErrorAs(t, err, &e)
			require.Equal(t, p.ID, e.Details["existing_id"])
			// The transaction is still usable, as with SQLite.
			return tx.CreateProject(ctx, &capability.Project{Name: "Other"})
		})
		require.NoError(t, err)
	})

	t.Run("ErrDuplicateID", func(t *testing.T) {
		err := s.Update(ctx, func(tx capability.Tx) error {
			err := tx.CreateProject(ctx, &capability.Project{ID: p.ID, Name: "Fresh name"})
			require.Equal(t, capability.CodeAlreadyExists, tnCode(err))
			_, err = tx.FindProjectByID(ctx, p.ID)
			return err
		})
		require.NoError(t, err)
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		tnView(t, s, func(tx capability.Tx) error {
			_, err := tx.FindProjectByID(ctx, "prj_missing")
			require.ErrorIs(t, err, capability.ErrNotFound)
			_, err = tx.FindProjectByName(ctx, "missing")
			require.ErrorIs(t, err, capability.ErrNotFound)
			return nil
		})
	})

	t.Run("OKQueryAndPages", func(t *testing.T) {
		names := []string{"Rate 50% off", "Rate 500", "snake_case", "snakeXcase"}
		for _, n := range names {
			tnUpdate(t, s, func(tx capability.Tx) error { return tx.CreateProject(ctx, &capability.Project{Name: n}) })
		}
		find := func(q string) []string {
			var got []string
			tnView(t, s, func(tx capability.Tx) error {
				ps, err := tx.FindProjects(ctx, capability.ProjectFilter{Query: q})
				got = tnIDs(ps, func(p *capability.Project) string { return p.Name })
				return err
			})
			return got
		}
		require.Equal(t, []string{"Rate 50% off"}, find("50%"), "wildcards match literally")
		require.Equal(t, []string{"snake_case"}, find("E_C"), "case-insensitive, _ literal")
		require.Equal(t, []string{"Website"}, find("PUBLIC"), "description matches")

		var all []string
		tnView(t, s, func(tx capability.Tx) error {
			ps, err := tx.FindProjects(ctx, capability.ProjectFilter{Page: capability.Page{Limit: 100}})
			all = tnIDs(ps, func(p *capability.Project) string { return p.ID })
			return err
		})
		require.Len(t, all, 6)
		paged, pages := tnPages(t, 4, func(page capability.Page) []string {
			var got []string
			tnView(t, s, func(tx capability.Tx) error {
				ps, err := tx.FindProjects(ctx, capability.ProjectFilter{Page: page})
				got = tnIDs(ps, func(p *capability.Project) string { return p.ID })
				return err
			})
			return got
		})
		require.Equal(t, all, paged)
		require.Equal(t, 2, pages)
		require.IsIncreasing(t, all)
	})
}

func TestTenantStaff(t *testing.T) {
	ctx := context.Background()
	db, _, _ := openTenantDB(t)
	s := newTenant(t, db, "acme")
	ada := &capability.Staff{Name: "Ada", Email: "ada@example.com", Role: "engineer"}
	bob := &capability.Staff{Name: "Bob", Email: "bob@example.com", Role: "Designer"}
	tnUpdate(t, s, func(tx capability.Tx) error {
		require.NoError(t, tx.CreateStaff(ctx, ada))
		return tx.CreateStaff(ctx, bob)
	})
	require.Regexp(t, `^stf_[0-9a-f]{32}$`, ada.ID)

	t.Run("OK", func(t *testing.T) {
		tnView(t, s, func(tx capability.Tx) error {
			got, err := tx.FindStaffByID(ctx, bob.ID)
			require.NoError(t, err)
			require.Equal(t, bob, got)
			found, err := tx.FindStaff(ctx, capability.StaffFilter{Query: "designer"})
			require.NoError(t, err)
			require.Equal(t, []string{bob.ID}, tnIDs(found, func(s *capability.Staff) string { return s.ID }))
			found, err = tx.FindStaff(ctx, capability.StaffFilter{Page: capability.Page{Limit: 1}})
			require.NoError(t, err)
			require.Len(t, found, 2, "Limit+1 rows")
			return nil
		})
	})

	t.Run("ErrDuplicateID", func(t *testing.T) {
		err := s.Update(ctx, func(tx capability.Tx) error {
			return tx.CreateStaff(ctx, &capability.Staff{ID: ada.ID, Name: "x"})
		})
		require.Equal(t, capability.CodeAlreadyExists, tnCode(err))
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		tnView(t, s, func(tx capability.Tx) error {
			_, err := tx.FindStaffByID(ctx, "stf_missing")
			require.ErrorIs(t, err, capability.ErrNotFound)
			return nil
		})
	})
}

func TestTenantTasks(t *testing.T) {
	ctx := context.Background()
	db, _, _ := openTenantDB(t)
	f := newTnFixture(t, db, "acme")
	s := f.store

	t.Run("OKDefaults", func(t *testing.T) {
		require.Regexp(t, `^tsk_[0-9a-f]{32}$`, f.task.ID)
		require.Equal(t, capability.TaskTodo, f.task.Status)
		tnView(t, s, func(tx capability.Tx) error {
			got, err := tx.FindTaskByID(ctx, f.task.ID)
			require.NoError(t, err)
			require.Equal(t, f.task, got)
			return nil
		})
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		tnView(t, s, func(tx capability.Tx) error {
			_, err := tx.FindTaskByID(ctx, "tsk_missing")
			require.ErrorIs(t, err, capability.ErrNotFound)
			return nil
		})
		err := s.Update(ctx, func(tx capability.Tx) error {
			return tx.UpdateTask(ctx, &capability.Task{ID: "tsk_missing", Title: "x", Status: capability.TaskTodo})
		})
		require.ErrorIs(t, err, capability.ErrNotFound)
	})

	t.Run("ErrInvalidDueDate", func(t *testing.T) {
		for _, due := range []string{"2025-02-30", "2025-2-3", "tomorrow"} {
			err := s.Update(ctx, func(tx capability.Tx) error {
				return tx.CreateTask(ctx, &capability.Task{ProjectID: f.project.ID, Title: "x", DueDate: due})
			})
			require.Error(t, err, due)
		}
	})

	t.Run("ErrUnknownProject", func(t *testing.T) {
		err := s.Update(ctx, func(tx capability.Tx) error {
			return tx.CreateTask(ctx, &capability.Task{ProjectID: "prj_missing", Title: "x"})
		})
		require.Error(t, err, "the foreign key rejects it")
	})

	var all []*capability.Task
	t.Run("OKFilters", func(t *testing.T) {
		specs := []capability.Task{
			{Title: "Fix login", Status: capability.TaskDoing, Priority: "high", DueDate: "2025-04-01", AssigneeID: f.staff.ID},
			{Title: "Write 100% docs", Status: capability.TaskReview, Priority: "low", DueDate: "2025-05-15"},
			{Title: "Plan", Description: "quarterly PLANNING", Status: capability.TaskDone},
		}
		tnUpdate(t, s, func(tx capability.Tx) error {
			for i := range specs {
				task := specs[i]
				task.ProjectID = f.project.ID
				if err := tx.CreateTask(ctx, &task); err != nil {
					return err
				}
				all = append(all, &task)
			}
			return nil
		})
		find := func(filter capability.TaskFilter) []string {
			var got []string
			tnView(t, s, func(tx capability.Tx) error {
				tasks, err := tx.FindTasks(ctx, filter)
				got = tnIDs(tasks, func(t *capability.Task) string { return t.Title })
				return err
			})
			return got
		}
		require.Equal(t, []string{"Fix login", "Write 100% docs"},
			find(capability.TaskFilter{Status: []string{capability.TaskDoing, capability.TaskReview}}))
		require.Equal(t, []string{"Fix login"}, find(capability.TaskFilter{AssigneeID: f.staff.ID}))
		require.Equal(t, []string{"Write 100% docs"}, find(capability.TaskFilter{Priority: "low"}))
		require.Equal(t, []string{"Fix login"}, find(capability.TaskFilter{DueBefore: "2025-04-01"}))
		require.Equal(t, []string{"Write 100% docs"}, find(capability.TaskFilter{DueAfter: "2025-04-02"}))
		require.Equal(t, []string{"Fix login", "Write 100% docs"},
			find(capability.TaskFilter{DueAfter: "2025-01-01", DueBefore: "2025-12-31"}))
		require.Equal(t, []string{"Write 100% docs"}, find(capability.TaskFilter{Query: "100%"}))
		require.Equal(t, []string{"Plan"}, find(capability.TaskFilter{Query: "planning"}))
		require.Empty(t, find(capability.TaskFilter{ProjectID: "prj_other"}))
		require.Len(t, find(capability.TaskFilter{ProjectID: f.project.ID}), 5)

		tnView(t, s, func(tx capability.Tx) error {
			got, err := tx.FindTaskByID(ctx, all[0].ID)
			require.NoError(t, err)
			require.Equal(t, "2025-04-01", got.DueDate)
			require.Equal(t, f.staff.ID, got.AssigneeID)
			counts, err := tx.CountTasksByStatus(ctx, f.project.ID)
			require.NoError(t, err)
			require.Equal(t, map[string]int{"todo": 2, "doing": 1, "waiting": 0, "review": 1, "done": 1, "cancelled": 0}, counts)
			counts, err = tx.CountTasksByStatus(ctx, "prj_other")
			require.NoError(t, err)
			require.Zero(t, counts["todo"])
			require.Len(t, counts, 6)
			return nil
		})
	})

	t.Run("OKPages", func(t *testing.T) {
		tnUpdate(t, s, func(tx capability.Tx) error {
			for i := range 7 {
				if err := tx.CreateTask(ctx, &capability.Task{ProjectID: f.project.ID, Title: fmt.Sprint("bulk ", i)}); err != nil {
					return err
				}
			}
			return nil
		})
		var want []string
		tnView(t, s, func(tx capability.Tx) error {
			tasks, err := tx.FindTasks(ctx, capability.TaskFilter{Page: capability.Page{Limit: 100}})
			want = tnIDs(tasks, func(t *capability.Task) string { return t.ID })
			return err
		})
		require.Len(t, want, 12)
		require.IsIncreasing(t, want)
		got, pages := tnPages(t, 5, func(page capability.Page) []string {
			var ids []string
			tnView(t, s, func(tx capability.Tx) error {
				tasks, err := tx.FindTasks(ctx, capability.TaskFilter{Page: page})
				ids = tnIDs(tasks, func(t *capability.Task) string { return t.ID })
				return err
			})
			return ids
		})
		require.Equal(t, want, got)
		require.Equal(t, 3, pages)
		tnView(t, s, func(tx capability.Tx) error {
			tasks, err := tx.FindTasks(ctx, capability.TaskFilter{})
			require.NoError(t, err)
			require.Len(t, tasks, 12, "default page of 25 holds them all")
			return nil
		})
	})

	t.Run("OKUpdate", func(t *testing.T) {
		task := *all[0]
		task.Title, task.Status, task.Priority, task.DueDate, task.AssigneeID = "Fixed login", capability.TaskCancelled, "", "", ""
		task.CancelReason = "duplicate"
		task.UpdatedAt = time.Time{}
		tnUpdate(t, s, func(tx capability.Tx) error { return tx.UpdateTask(ctx, &task) })
		require.True(t, task.UpdatedAt.After(task.CreatedAt))
		tnView(t, s, func(tx capability.Tx) error {
			got, err := tx.FindTaskByID(ctx, task.ID)
			require.NoError(t, err)
			require.Equal(t, &task, got)
			return nil
		})
	})
}

func TestTenantActions(t *testing.T) {
	ctx := context.Background()
	db, _, _ := openTenantDB(t)
	f := newTnFixture(t, db, "acme")
	s := f.store

	var acts []*capability.TaskAction
	tnUpdate(t, s, func(tx capability.Tx) error {
		for i := range 4 {
			a := &capability.TaskAction{TaskID: f.task.ID, Title: fmt.Sprint("step ", i), AssigneeID: f.staff.ID}
			if err := tx.CreateTaskAction(ctx, a); err != nil {
				return err
			}
			acts = append(acts, a)
		}
		return tx.CreateTaskAction(ctx, &capability.TaskAction{TaskID: f.other.ID, Title: "elsewhere"})
	})

	t.Run("OK", func(t *testing.T) {
		require.Regexp(t, `^act_[0-9a-f]{32}$`, acts[0].ID)
		require.Equal(t, capability.ActionOpen, acts[0].State)
		tnView(t, s, func(tx capability.Tx) error {
			got, err := tx.FindTaskActionByID(ctx, acts[1].ID)
			require.NoError(t, err)
			require.Equal(t, acts[1], got)
			page, err := tx.FindTaskActions(ctx, f.task.ID, capability.Page{Limit: 2})
			require.NoError(t, err)
			require.Equal(t, tnIDs(acts[:3], func(a *capability.TaskAction) string { return a.ID }),
				tnIDs(page, func(a *capability.TaskAction) string { return a.ID }))
			page, err = tx.FindTaskActions(ctx, f.task.ID, capability.Page{AfterID: acts[2].ID})
			require.NoError(t, err)
			require.Len(t, page, 1)
			none, err := tx.FindTaskActions(ctx, "", capability.Page{})
			require.NoError(t, err)
			require.Empty(t, none)
			return nil
		})
	})

	t.Run("OKUpdateAndCancelOpen", func(t *testing.T) {
		done := *acts[0]
		done.State, done.Notes, done.AssigneeID, done.UpdatedAt = capability.ActionDone, "went well", "", time.Time{}
		var n int
		at := time.Date(2025, 6, 1, 12, 0, 0, 123456789, time.UTC)
		tnUpdate(t, s, func(tx capability.Tx) error {
			if err := tx.UpdateTaskAction(ctx, &done); err != nil {
				return err
			}
			var err error
			n, err = tx.CancelOpenTaskActions(ctx, f.task.ID, at)
			return err
		})
		require.Equal(t, 3, n)
		tnView(t, s, func(tx capability.Tx) error {
			got, err := tx.FindTaskActionByID(ctx, done.ID)
			require.NoError(t, err)
			require.Equal(t, &done, got)
			got, err = tx.FindTaskActionByID(ctx, acts[3].ID)
			require.NoError(t, err)
			require.Equal(t, capability.ActionCancelled, got.State)
			require.Equal(t, at.Truncate(time.Microsecond), got.UpdatedAt)
			other, err := tx.FindTaskActions(ctx, f.other.ID, capability.Page{})
			require.NoError(t, err)
			require.Equal(t, capability.ActionOpen, other[0].State, "another task's actions stay open")
			return nil
		})
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		err := s.Update(ctx, func(tx capability.Tx) error {
			_, err := tx.FindTaskActionByID(ctx, "act_missing")
			require.ErrorIs(t, err, capability.ErrNotFound)
			return tx.UpdateTaskAction(ctx, &capability.TaskAction{ID: "act_missing", Title: "x", State: capability.ActionOpen})
		})
		require.ErrorIs(t, err, capability.ErrNotFound)
	})
}

func TestTenantRuns(t *testing.T) {
	ctx := context.Background()
	db, _, _ := openTenantDB(t)
	f := newTnFixture(t, db, "acme")
	s := f.store

	// Key order and spacing are kept: the column is json, not jsonb.
	output := json.RawMessage(`{"z": 1,  "a": [true]}`)
	run := &capability.TaskRun{TaskID: f.task.ID, Branch: "main", Output: output}
	second := &capability.TaskRun{TaskID: f.task.ID}
	done := &capability.TaskRun{TaskID: f.task.ID, Status: capability.RunSucceeded}
	tnUpdate(t, s, func(tx capability.Tx) error {
		for _, r := range []*capability.TaskRun{run, second, done} {
			if err := tx.CreateTaskRun(ctx, r); err != nil {
				return err
			}
		}
		return nil
	})

	t.Run("OK", func(t *testing.T) {
		require.Regexp(t, `^run_[0-9a-f]{32}$`, run.ID)
		require.Equal(t, capability.RunRunning, run.Status)
		require.True(t, run.FinishedAt.IsZero())
		require.Equal(t, done.UpdatedAt, done.FinishedAt, "a final status finishes at its update")
		tnView(t, s, func(tx capability.Tx) error {
			got, err := tx.FindTaskRunByID(ctx, run.ID)
			require.NoError(t, err)
			require.Equal(t, run, got)
			require.Equal(t, string(output), string(got.Output))
			require.Nil(t, got.State)
			runs, err := tx.FindTaskRuns(ctx, f.task.ID, capability.Page{Limit: 1})
			require.NoError(t, err)
			require.Equal(t, []string{run.ID, second.ID}, tnIDs(runs, func(r *capability.TaskRun) string { return r.ID }))
			return nil
		})
	})

	t.Run("ErrNotAnObject", func(t *testing.T) {
		for _, bad := range []string{`[1]`, `{"a":`} {
			err := s.Update(ctx, func(tx capability.Tx) error {
				return tx.CreateTaskRun(ctx, &capability.TaskRun{TaskID: f.task.ID, State: json.RawMessage(bad)})
			})
			require.Error(t, err, bad)
		}
	})

	t.Run("OKUpdateAndCancelRunning", func(t *testing.T) {
		upd := *run
		upd.Status, upd.Stage, upd.ErrorMessage, upd.UpdatedAt = capability.RunFailed, "test", "boom", time.Time{}
		upd.State = json.RawMessage(`{"step":3}`)
		var n int
		tnUpdate(t, s, func(tx capability.Tx) error {
			if err := tx.UpdateTaskRun(ctx, &upd); err != nil {
				return err
			}
			var err error
			n, err = tx.CancelRunningTaskRuns(ctx, f.task.ID, time.Time{})
			return err
		})
		require.Equal(t, 1, n, "only the second run was still running")
		require.Equal(t, upd.UpdatedAt, upd.FinishedAt)
		tnView(t, s, func(tx capability.Tx) error {
			got, err := tx.FindTaskRunByID(ctx, upd.ID)
			require.NoError(t, err)
			require.Equal(t, &upd, got)
			got, err = tx.FindTaskRunByID(ctx, second.ID)
			require.NoError(t, err)
			require.Equal(t, capability.RunCancelled, got.Status)
			require.Equal(t, got.UpdatedAt, got.FinishedAt)
			return nil
		})
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		err := s.Update(ctx, func(tx capability.Tx) error {
			_, err := tx.FindTaskRunByID(ctx, "run_missing")
			require.ErrorIs(t, err, capability.ErrNotFound)
			return tx.UpdateTaskRun(ctx, &capability.TaskRun{ID: "run_missing", Status: capability.RunRunning})
		})
		require.ErrorIs(t, err, capability.ErrNotFound)
	})
}

func TestTenantRunLogsAndArtifacts(t *testing.T) {
	ctx := context.Background()
	db, _, _ := openTenantDB(t)
	f := newTnFixture(t, db, "acme")
	s := f.store
	run := &capability.TaskRun{TaskID: f.task.ID}
	tnUpdate(t, s, func(tx capability.Tx) error { return tx.CreateTaskRun(ctx, run) })

	t.Run("OKLog", func(t *testing.T) {
		lines := func(n int) []*capability.RunLogEntry {
			out := make([]*capability.RunLogEntry, n)
			for i := range out {
				out[i] = &capability.RunLogEntry{Level: "info", Message: fmt.Sprint("line ", i)}
			}
			return out
		}
		first, second := lines(3), lines(4)
		tnUpdate(t, s, func(tx capability.Tx) error { return tx.AppendRunLog(ctx, run.ID, first) })
		tnUpdate(t, s, func(tx capability.Tx) error {
			require.NoError(t, tx.AppendRunLog(ctx, run.ID, nil))
			return tx.AppendRunLog(ctx, run.ID, second)
		})
		require.Equal(t, int64(3), first[2].Seq)
		require.Equal(t, int64(7), second[3].Seq)
		require.Equal(t, run.ID, second[0].RunID)
		tnView(t, s, func(tx capability.Tx) error {
			last, err := tx.LastRunLogSeq(ctx, run.ID)
			require.NoError(t, err)
			require.Equal(t, int64(7), last)
			got, err := tx.FindRunLog(ctx, run.ID, 2, 3)
			require.NoError(t, err)
			require.Equal(t, []*capability.RunLogEntry{first[2], second[0], second[1]}, got)
			got, err = tx.FindRunLog(ctx, run.ID, 7, 0)
			require.NoError(t, err)
			require.Empty(t, got)
			last, err = tx.LastRunLogSeq(ctx, "run_missing")
			require.NoError(t, err)
			require.Zero(t, last)
			return nil
		})
		err := s.Update(ctx, func(tx capability.Tx) error {
			return tx.AppendRunLog(ctx, "run_missing", lines(1))
		})
		require.Error(t, err, "the foreign key rejects an unknown run")
	})

	t.Run("OKArtifacts", func(t *testing.T) {
		artifact := func(name string, content []byte) *capability.RunArtifact {
			sum := sha256.Sum256(content)
			return &capability.RunArtifact{RunID: run.ID, Name: name, ContentType: "text/plain",
				Size: int64(len(content)), SHA256: hex.EncodeToString(sum[:]), Content: content}
		}
		report := artifact("report.txt", []byte("all green"))
		empty := artifact("empty", nil)
		empty.ContentType = ""
		tnUpdate(t, s, func(tx capability.Tx) error {
			require.NoError(t, tx.CreateRunArtifact(ctx, report))
			return tx.CreateRunArtifact(ctx, empty)
		})
		require.Regexp(t, `^art_[0-9a-f]{32}$`, report.ID)
		require.Equal(t, DefaultArtifactContentType, empty.ContentType)
		tnView(t, s, func(tx capability.Tx) error {
			list, err := tx.FindRunArtifacts(ctx, run.ID)
			require.NoError(t, err)
			require.Len(t, list, 2)
			require.Nil(t, list[0].Content, "listings carry no content")
			require.Equal(t, report.SHA256, list[0].SHA256)
			got, err := tx.FindRunArtifactByID(ctx, report.ID)
			require.NoError(t, err)
			require.Equal(t, report, got)
			got, err = tx.FindRunArtifactByID(ctx, empty.ID)
			require.NoError(t, err)
			require.NotNil(t, got.Content)
			require.Empty(t, got.Content)
			_, err = tx.FindRunArtifactByID(ctx, "art_missing")
			require.ErrorIs(t, err, capability.ErrNotFound)
			return nil
		})
		for name, bad := range map[string]func(a *capability.RunArtifact){
			"ErrSize":      func(a *capability.RunArtifact) { a.Size++ },
			"ErrUpperHash": func(a *capability.RunArtifact) { a.SHA256 = "AB" + a.SHA256[2:] },
		} {
			a := artifact("x", []byte("x"))
			bad(a)
			err := s.Update(ctx, func(tx capability.Tx) error { return tx.CreateRunArtifact(ctx, a) })
			require.Error(t, err, name)
		}
	})
}

func TestTenantTaskTypesAndDetails(t *testing.T) {
	ctx := context.Background()
	db, clock, _ := openTenantDB(t)
	f := newTnFixture(t, db, "acme")
	s := f.store

	t.Run("OKTaskTypes", func(t *testing.T) {
		tnView(t, s, func(tx capability.Tx) error {
			types, err := tx.FindTaskTypes(ctx, "design")
			require.NoError(t, err)
			require.Equal(t, []string{"prototype", "ux_research", "visual_design"},
				tnIDs(types, func(tt *capability.TaskType) string { return tt.TaskType }))
			all, err := tx.FindTaskTypes(ctx, "")
			require.NoError(t, err)
			require.Equal(t, "content", all[0].Category)
			tt, err := tx.FindTaskType(ctx, "engineering", "bug_fix")
			require.NoError(t, err)
			require.Equal(t, "Find and fix a defect in existing behaviour.", tt.Description)
			_, err = tx.FindTaskType(ctx, "engineering", "nope")
			require.ErrorIs(t, err, capability.ErrNotFound)
			return nil
		})
	})

	t.Run("OKDetails", func(t *testing.T) {
		budget := 42.5
		d := &capability.TaskDetails{TaskID: f.task.ID, BudgetUSD: &budget, Category: "engineering", TaskType: "feature",
			Requirements: json.RawMessage(`{"b":1,"a":2}`), ExpiresAt: clock.Now(), Labels: []string{"x", "y"}}
		tnUpdate(t, s, func(tx capability.Tx) error { return tx.SaveTaskDetails(ctx, d) })
		tnView(t, s, func(tx capability.Tx) error {
			got, err := tx.FindTaskDetails(ctx, f.task.ID)
			require.NoError(t, err)
			require.Equal(t, d, got)
			_, err = tx.FindTaskDetails(ctx, f.other.ID)
			require.ErrorIs(t, err, capability.ErrNotFound)
			return nil
		})
		replaced := &capability.TaskDetails{TaskID: f.task.ID, Category: "design"}
		tnUpdate(t, s, func(tx capability.Tx) error { return tx.SaveTaskDetails(ctx, replaced) })
		tnView(t, s, func(tx capability.Tx) error {
			got, err := tx.FindTaskDetails(ctx, f.task.ID)
			require.NoError(t, err)
			require.Equal(t, &capability.TaskDetails{TaskID: f.task.ID, Category: "design", Labels: []string{}}, got)
			return nil
		})
	})

	t.Run("ErrUnknownTaskType", func(t *testing.T) {
		for _, d := range []*capability.TaskDetails{
			{TaskID: f.task.ID, Category: "cooking"},
			{TaskID: f.task.ID, Category: "design", TaskType: "bug_fix"},
		} {
			err := s.Update(ctx, func(tx capability.Tx) error { return tx.SaveTaskDetails(ctx, d) })
			require.Equal(t, capability.CodeUnknownTaskType, tnCode(err))
		}
	})
}

func TestTenantIdempotency(t *testing.T) {
	ctx := context.Background()
	db, clock, _ := openTenantDB(t)
	s := newTenant(t, db, "acme")
	other := newTenant(t, db, "other")

	r := &capability.IdempotentResult{Key: "k1", Capability: "projects.create_task@0.1.0", ArgsHash: "h1", Result: []byte(`{"ok":true}`)}
	want := clock.Peek()
	tnUpdate(t, s, func(tx capability.Tx) error { return tx.SaveIdempotentResult(ctx, r) })
	require.Equal(t, want, r.CreatedAt)
	tnView(t, s, func(tx capability.Tx) error {
		got, err := tx.FindIdempotentResult(ctx, "k1")
		require.NoError(t, err)
		require.Equal(t, r, got)
		_, err = tx.FindIdempotentResult(ctx, "k2")
		require.ErrorIs(t, err, capability.ErrNotFound)
		return nil
	})
	tnView(t, other, func(tx capability.Tx) error {
		_, err := tx.FindIdempotentResult(ctx, "k1")
		require.ErrorIs(t, err, capability.ErrNotFound, "keys are per tenant")
		return nil
	})
	replaced := &capability.IdempotentResult{Key: "k1", Capability: "c@1.0.0", ArgsHash: "h2", Result: []byte(`{}`)}
	tnUpdate(t, s, func(tx capability.Tx) error { return tx.SaveIdempotentResult(ctx, replaced) })
	tnView(t, s, func(tx capability.Tx) error {
		got, err := tx.FindIdempotentResult(ctx, "k1")
		require.NoError(t, err)
		require.Equal(t, replaced, got)
		return nil
	})
}

func TestTenantIsolation(t *testing.T) {
	ctx := context.Background()
	db, _, _ := openTenantDB(t)
	a := newTnFixture(t, db, "alpha")
	b := newTenant(t, db, "beta")

	tnView(t, b, func(tx capability.Tx) error {
		_, err := tx.FindProjectByID(ctx, a.project.ID)
		require.ErrorIs(t, err, capability.ErrNotFound)
		_, err = tx.FindProjectByName(ctx, a.project.Name)
		require.ErrorIs(t, err, capability.ErrNotFound)
		_, err = tx.FindTaskByID(ctx, a.task.ID)
		require.ErrorIs(t, err, capability.ErrNotFound)
		_, err = tx.FindStaffByID(ctx, a.staff.ID)
		require.ErrorIs(t, err, capability.ErrNotFound)
		tasks, err := tx.FindTasks(ctx, capability.TaskFilter{})
		require.NoError(t, err)
		require.Empty(t, tasks)
		projects, err := tx.FindProjects(ctx, capability.ProjectFilter{})
		require.NoError(t, err)
		require.Empty(t, projects)
		return nil
	})

	// The same name is free in the other tenant, and a task there cannot
	// point at the first tenant's project.
	tnUpdate(t, b, func(tx capability.Tx) error {
		return tx.CreateProject(ctx, &capability.Project{Name: a.project.Name})
	})
	err := b.Update(ctx, func(tx capability.Tx) error {
		return tx.CreateTask(ctx, &capability.Task{ProjectID: a.project.ID, Title: "sneaky"})
	})
	require.Error(t, err)
	// An update through b of a's task id changes nothing in a.
	err = b.Update(ctx, func(tx capability.Tx) error {
		task := *a.task
		task.Title = "hijacked"
		return tx.UpdateTask(ctx, &task)
	})
	require.ErrorIs(t, err, capability.ErrNotFound)
	tnView(t, a.store, func(tx capability.Tx) error {
		got, err := tx.FindTaskByID(ctx, a.task.ID)
		require.NoError(t, err)
		require.Equal(t, "Ship it", got.Title)
		projects, err := tx.FindProjects(ctx, capability.ProjectFilter{})
		require.NoError(t, err)
		require.Len(t, projects, 1)
		return nil
	})
}

func TestTenantTransactions(t *testing.T) {
	ctx := context.Background()
	db, _, _ := openTenantDB(t)
	f := newTnFixture(t, db, "acme")
	s := f.store

	t.Run("ErrRejectedUpdateWritesNothing", func(t *testing.T) {
		errReject := errors.New("rejected")
		err := s.Update(ctx, func(tx capability.Tx) error {
			require.NoError(t, tx.CreateProject(ctx, &capability.Project{Name: "Ghost"}))
			task := *f.task
			task.Status = capability.TaskDone
			require.NoError(t, tx.UpdateTask(ctx, &task))
			return errReject
		})
		require.ErrorIs(t, err, errReject)
		tnView(t, s, func(tx capability.Tx) error {
			_, err := tx.FindProjectByName(ctx, "Ghost")
			require.ErrorIs(t, err, capability.ErrNotFound)
			got, err := tx.FindTaskByID(ctx, f.task.ID)
			require.NoError(t, err)
			require.Equal(t, capability.TaskTodo, got.Status)
			return nil
		})
	})

	t.Run("ErrPanicWritesNothing", func(t *testing.T) {
		require.Panics(t, func() {
			_ = s.Update(ctx, func(tx capability.Tx) error {
				require.NoError(t, tx.CreateProject(ctx, &capability.Project{Name: "Panic"}))
				panic("boom")
			})
		})
		tnView(t, s, func(tx capability.Tx) error {
			_, err := tx.FindProjectByName(ctx, "Panic")
			require.ErrorIs(t, err, capability.ErrNotFound)
			return nil
		})
	})

	t.Run("ErrViewIsReadOnly", func(t *testing.T) {
		err := s.View(ctx, func(tx capability.Tx) error {
			return tx.CreateProject(ctx, &capability.Project{Name: "Nope"})
		})
		require.Error(t, err)
	})

	t.Run("OKConcurrentTransitions", func(t *testing.T) {
		// Each writer reads the task and writes back a successor of what
		// it read, as a transition does. Without one writer per tenant
		// two would read the same state and one transition would be lost.
		const writers = 20
		next := map[string]string{
			capability.TaskTodo: capability.TaskDoing, capability.TaskDoing: capability.TaskReview,
			capability.TaskReview: capability.TaskTodo,
		}
		var wg sync.WaitGroup
		errs := make(chan error, writers)
		for range writers {
			wg.Go(func() {
				errs <- s.Update(ctx, func(tx capability.Tx) error {
					task, err := tx.FindTaskByID(ctx, f.other.ID)
					if err != nil {
						return err
					}
					n, _ := strconv.Atoi(task.Description)
					task.Description = strconv.Itoa(n + 1)
					task.Status = next[task.Status]
					task.UpdatedAt = time.Time{}
					if err := tx.UpdateTask(ctx, task); err != nil {
						return err
					}
					return tx.CreateTaskAction(ctx, &capability.TaskAction{TaskID: task.ID, Title: "moved to " + task.Status})
				})
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}
		tnView(t, s, func(tx capability.Tx) error {
			task, err := tx.FindTaskByID(ctx, f.other.ID)
			require.NoError(t, err)
			require.Equal(t, strconv.Itoa(writers), task.Description, "no transition was lost")
			require.Equal(t, capability.TaskReview, task.Status, "20 moves round todo→doing→review")
			acts, err := tx.FindTaskActions(ctx, task.ID, capability.Page{Limit: 100})
			require.NoError(t, err)
			require.Len(t, acts, writers)
			// The history, in commit order, is a valid walk of the cycle.
			status := capability.TaskTodo
			for _, a := range acts {
				status = next[status]
				require.Equal(t, "moved to "+status, a.Title)
			}
			return nil
		})
	})

	t.Run("OKConcurrentLogAppends", func(t *testing.T) {
		run := &capability.TaskRun{TaskID: f.task.ID}
		tnUpdate(t, s, func(tx capability.Tx) error { return tx.CreateTaskRun(ctx, run) })
		const writers, appends, perAppend = 8, 10, 3
		var wg sync.WaitGroup
		errs := make(chan error, writers)
		for w := range writers {
			wg.Go(func() {
				for i := range appends {
					entries := make([]*capability.RunLogEntry, perAppend)
					for j := range entries {
						entries[j] = &capability.RunLogEntry{Level: "info", Message: fmt.Sprintf("w%d a%d e%d", w, i, j)}
					}
					if err := s.Update(ctx, func(tx capability.Tx) error { return tx.AppendRunLog(ctx, run.ID, entries) }); err != nil {
						errs <- err
						return
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}
		tnView(t, s, func(tx capability.Tx) error {
			got, err := tx.FindRunLog(ctx, run.ID, 0, 1000)
			require.NoError(t, err)
			require.Len(t, got, writers*appends*perAppend)
			for i, e := range got {
				require.Equal(t, int64(i+1), e.Seq, "no gaps or duplicates")
			}
			return nil
		})
	})
}
