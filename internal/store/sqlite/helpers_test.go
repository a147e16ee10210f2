package sqlite

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"modernc.org/sqlite"

	"github.com/capd-dev/capd/internal/capability"
)

// testEpoch is the fake clock's start: a time with a non-UTC zone and a
// nanosecond part, so tests catch timestamps that lose either.
var testEpoch = time.Date(2025, 3, 14, 9, 26, 53, 589793000, time.FixedZone("CET", 3600))

// fakeClock ticks one millisecond per reading, so every timestamp is
// distinct, ordered and predictable.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{t: testEpoch} }

// Now returns the current fake time and advances it.
func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.t
	c.t = c.t.Add(time.Millisecond)
	return now
}

// Peek returns the fake time the next Now will return, without advancing.
func (c *fakeClock) Peek() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the fake time forward by d.
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// openTestDB opens a fresh data directory with a fake clock and closes it
// when the test ends. opts may set anything but Dir and Now.
func openTestDB(t testing.TB, opts Options) (*DB, *fakeClock) {
	t.Helper()
	clock := newFakeClock()
	if opts.Dir == "" {
		opts.Dir = t.TempDir()
	}
	if opts.Now == nil {
		opts.Now = clock.Now
	}
	db, err := Open(context.Background(), opts)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, db.Close()) })
	return db, clock
}

// createTenant registers slug and returns its store.
func createTenant(t testing.TB, db *DB, slug string) capability.TenantStore {
	t.Helper()
	ctx := context.Background()
	require.NoError(t, db.Control().CreateTenant(ctx, &capability.Tenant{Slug: slug}))
	store, err := db.Tenants().Tenant(ctx, slug)
	require.NoError(t, err)
	return store
}

// update runs fn in a write transaction and requires it to succeed.
func update(t testing.TB, s capability.TenantStore, fn func(capability.Tx) error) {
	t.Helper()
	require.NoError(t, s.Update(context.Background(), fn))
}

// view runs fn in a read transaction and requires it to succeed.
func view(t testing.TB, s capability.TenantStore, fn func(capability.Tx) error) {
	t.Helper()
	require.NoError(t, s.View(context.Background(), fn))
}

// mustCreateProject creates a project named name and returns it.
func mustCreateProject(t testing.TB, s capability.TenantStore, name string) *capability.Project {
	t.Helper()
	p := &capability.Project{Name: name, Description: "about " + name}
	update(t, s, func(tx capability.Tx) error { return tx.CreateProject(context.Background(), p) })
	return p
}

// mustCreateStaff creates a staff member named name and returns it.
func mustCreateStaff(t testing.TB, s capability.TenantStore, name string) *capability.Staff {
	t.Helper()
	st := &capability.Staff{Name: name, Email: name + "@example.com", Role: "engineer"}
	update(t, s, func(tx capability.Tx) error { return tx.CreateStaff(context.Background(), st) })
	return st
}

// mustCreateTask creates task and returns it.
func mustCreateTask(t testing.TB, s capability.TenantStore, task *capability.Task) *capability.Task {
	t.Helper()
	update(t, s, func(tx capability.Tx) error { return tx.CreateTask(context.Background(), task) })
	return task
}

// fileExists reports whether path exists.
func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// ids returns the IDs of a list result, in order.
func ids[T any](items []*T, id func(*T) string) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = id(it)
	}
	return out
}

func projectID(p *capability.Project) string { return p.ID }
func staffID(s *capability.Staff) string     { return s.ID }
func taskID(t *capability.Task) string       { return t.ID }

// allPages walks a list method page by page, the way a caller does: ask for
// limit rows, take limit of the limit+1 returned, continue after the last.
// It returns every ID seen, in order, and the number of pages.
func allPages(t testing.TB, limit int, fetch func(p capability.Page) []string) (all []string, pages int) {
	t.Helper()
	page := capability.Page{Limit: limit}
	for {
		got := fetch(page)
		require.LessOrEqual(t, len(got), limit+1, "a page returns at most Limit+1 rows")
		pages++
		if len(got) <= limit {
			return append(all, got...), pages
		}
		all = append(all, got[:limit]...)
		page.AfterID = got[limit-1]
		require.Less(t, pages, 10000, "pagination does not end")
	}
}

// sqliteCode returns SQLite's extended result code carried by err, or 0.
func sqliteCode(err error) int {
	var e *sqlite.Error
	if errors.As(err, &e) {
		return e.Code()
	}
	return 0
}

// workFixture is a tenant with one project, one staff member and two tasks,
// the parents every work entity needs.
type workFixture struct {
	store capability.TenantStore
	staff *capability.Staff
	task  *capability.Task
	other *capability.Task
}

// newWorkFixture creates a workFixture in a new tenant slug of db.
func newWorkFixture(t testing.TB, db *DB, slug string) workFixture {
	t.Helper()
	store := createTenant(t, db, slug)
	project := mustCreateProject(t, store, "Website")
	return workFixture{
		store: store,
		staff: mustCreateStaff(t, store, "ada"),
		task:  mustCreateTask(t, store, &capability.Task{ProjectID: project.ID, Title: "Ship it"}),
		other: mustCreateTask(t, store, &capability.Task{ProjectID: project.ID, Title: "Other"}),
	}
}

// mustCreateAction creates a and returns it.
func mustCreateAction(t testing.TB, s capability.TenantStore, a *capability.TaskAction) *capability.TaskAction {
	t.Helper()
	update(t, s, func(tx capability.Tx) error { return tx.CreateTaskAction(context.Background(), a) })
	return a
}

// mustCreateRun creates r and returns it.
func mustCreateRun(t testing.TB, s capability.TenantStore, r *capability.TaskRun) *capability.TaskRun {
	t.Helper()
	update(t, s, func(tx capability.Tx) error { return tx.CreateTaskRun(context.Background(), r) })
	return r
}

// mustAppendLog appends entries to run and returns them with Seq set.
func mustAppendLog(t testing.TB, s capability.TenantStore, runID string, entries ...*capability.RunLogEntry) []*capability.RunLogEntry {
	t.Helper()
	update(t, s, func(tx capability.Tx) error { return tx.AppendRunLog(context.Background(), runID, entries) })
	return entries
}

// logLines returns n info entries "prefix 0".."prefix n-1".
func logLines(prefix string, n int) []*capability.RunLogEntry {
	out := make([]*capability.RunLogEntry, n)
	for i := range out {
		out[i] = &capability.RunLogEntry{Level: "info", Message: fmt.Sprintf("%s %d", prefix, i)}
	}
	return out
}

// newArtifact returns an artifact of run holding content, with Size and
// SHA256 set the way a caller sets them.
func newArtifact(run, name string, content []byte) *capability.RunArtifact {
	sum := sha256.Sum256(content)
	return &capability.RunArtifact{
		RunID: run, Name: name, ContentType: "text/plain",
		Size: int64(len(content)), SHA256: hex.EncodeToString(sum[:]), Content: content,
	}
}

func actionID(a *capability.TaskAction) string    { return a.ID }
func runID(r *capability.TaskRun) string          { return r.ID }
func artifactID(a *capability.RunArtifact) string { return a.ID }
func taskTypeName(tt *capability.TaskType) string { return tt.Category + "/" + tt.TaskType }

// seqs returns the Seq of each entry, in order.
func seqs(entries []*capability.RunLogEntry) []int64 {
	out := make([]int64, len(entries))
	for i, e := range entries {
		out[i] = e.Seq
	}
	return out
}

// seqRange returns from, from+1, ..., to.
func seqRange(from, to int64) []int64 {
	var out []int64
	for s := from; s <= to; s++ {
		out = append(out, s)
	}
	return out
}
