package storetest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/capd-dev/capd/internal/capability"
)

// epoch is the fake clock's start: a non-UTC zone and a nanosecond part, so
// the suite sees a store normalise both (to UTC, and to the precision it
// keeps) in what it hands back.
var epoch = time.Date(2025, 3, 14, 9, 26, 53, 589793238, time.FixedZone("CET", 3600))

// cet is a non-UTC zone for times the suite gives the store.
var cet = time.FixedZone("CET", 3600)

// clock is a fake clock that advances a millisecond on every reading, so
// every timestamp is distinct, ordered and predictable.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: epoch} }

// Now returns the current fake time and advances it.
func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.t
	c.t = c.t.Add(time.Millisecond)
	return now
}

// Peek returns the time the next Now returns, without advancing.
func (c *clock) Peek() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the fake time forward by d.
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// idGen hands out prefix + "_" + 32 hex digits of a counter: the shape of
// storecore.NewID, ordered by creation as UUIDv7 ids are, and predictable.
type idGen struct {
	n      atomic.Uint64
	issued sync.Map // id -> true
}

// New returns the next id with prefix.
func (g *idGen) New(prefix string) string {
	id := fmt.Sprintf("%s_%032x", prefix, g.n.Add(1))
	g.issued.Store(id, true)
	return id
}

// requireIssued asserts that id came from g with prefix, that is, that the
// store used the injected generator.
func (g *idGen) requireIssued(t testing.TB, prefix, id string) {
	t.Helper()
	require.Regexp(t, `^`+prefix+`_[0-9a-f]{32}$`, id)
	_, ok := g.issued.Load(id)
	require.True(t, ok, "%s was not made by the injected ID generator", id)
}

// requireInstant asserts that got is want as a store keeps it: in UTC, and
// equal to at least the microsecond (PostgreSQL keeps microseconds, SQLite
// nanoseconds).
func requireInstant(t testing.TB, want, got time.Time, msgAndArgs ...any) {
	t.Helper()
	require.Equal(t, time.UTC.String(), got.Location().String(), msgAndArgs...)
	require.Equal(t, want.UTC().Truncate(time.Microsecond), got.Truncate(time.Microsecond), msgAndArgs...)
}

// requireCode asserts that err is an application error with code.
func requireCode(t testing.TB, code string, err error, msgAndArgs ...any) {
	t.Helper()
	require.Error(t, err, msgAndArgs...)
	require.Equal(t, code, capability.ErrorCode(err), append([]any{"error: %v", err}, msgAndArgs...)...)
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

// read runs get in a read transaction and returns its result.
func read[T any](t testing.TB, s capability.TenantStore, get func(context.Context, capability.Tx) (T, error)) T {
	t.Helper()
	var out T
	view(t, s, func(tx capability.Tx) error {
		var err error
		out, err = get(context.Background(), tx)
		return err
	})
	return out
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

// mustCreateArtifact creates a and returns it.
func mustCreateArtifact(t testing.TB, s capability.TenantStore, a *capability.RunArtifact) *capability.RunArtifact {
	t.Helper()
	update(t, s, func(tx capability.Tx) error { return tx.CreateRunArtifact(context.Background(), a) })
	return a
}

// fixture is a tenant with one project, one staff member and two tasks, the
// parents every work entity needs.
type fixture struct {
	store   capability.TenantStore
	project *capability.Project
	staff   *capability.Staff
	task    *capability.Task
	other   *capability.Task
}

// newFixture creates a fixture in a new tenant slug.
func newFixture(t testing.TB, e *env, slug string) fixture {
	t.Helper()
	store := e.tenant(t, slug)
	project := mustCreateProject(t, store, "Website")
	return fixture{
		store:   store,
		project: project,
		staff:   mustCreateStaff(t, store, "ada"),
		task:    mustCreateTask(t, store, &capability.Task{ProjectID: project.ID, Title: "Ship it"}),
		other:   mustCreateTask(t, store, &capability.Task{ProjectID: project.ID, Title: "Other"}),
	}
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

// ids returns the IDs of a list result, in order; nil for an empty one.
func ids[T any](items []*T, id func(*T) string) []string {
	var out []string
	for _, it := range items {
		out = append(out, id(it))
	}
	return out
}

func projectID(p *capability.Project) string      { return p.ID }
func staffID(s *capability.Staff) string          { return s.ID }
func taskID(t *capability.Task) string            { return t.ID }
func actionID(a *capability.TaskAction) string    { return a.ID }
func runID(r *capability.TaskRun) string          { return r.ID }
func artifactID(a *capability.RunArtifact) string { return a.ID }

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

// seqs returns the Seq of each entry, in order.
func seqs(entries []*capability.RunLogEntry) []int64 {
	var out []int64
	for _, e := range entries {
		out = append(out, e.Seq)
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

// countTasks counts every task of a tenant.
func countTasks(t testing.TB, s capability.TenantStore) int {
	t.Helper()
	n := 0
	for _, c := range read(t, s, func(ctx context.Context, tx capability.Tx) (map[string]int, error) {
		return tx.CountTasksByStatus(ctx, "")
	}) {
		n += c
	}
	return n
}
