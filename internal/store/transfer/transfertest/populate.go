// Package transfertest fills a SQLite data directory with realistic data
// through the store's own API, for the tests of capd migrate: every table
// gets rows, every optional field appears both set and unset, and the
// values that are easy to get wrong between engines are there on purpose
// (times with nanoseconds, negative durations, empty text beside NULL, JSON with
// odd spacing, empty and binary artifacts, revoked, expired and pinned
// keys, a tenant that never got a database).
package transfertest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/capd-dev/capd/internal/capability"
	"github.com/capd-dev/capd/internal/store/sqlite"
)

// Clock is a fake clock whose readings carry nanoseconds, so timestamps
// exercise the truncation to microseconds. Every reading advances it.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// Epoch is the clock's first reading: nanoseconds on purpose.
var Epoch = time.Date(2025, 3, 4, 5, 6, 7, 123456789, time.UTC)

// NewClock returns a clock at Epoch.
func NewClock() *Clock { return &Clock{t: Epoch} }

// Now returns the time and moves the clock 1.234567891 ms on.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(1234567891 * time.Nanosecond)
	return c.t
}

// Advance moves the clock d on.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// Options sizes the data.
type Options struct {
	// Tenants is how many tenants get a database and data; 0 means 3.
	Tenants int
	// Tasks is how many tasks each of them gets; 0 means 12 (two in each
	// status). Actions, runs, logs, artifacts and details scale with it.
	Tasks int
}

// Fixture describes what Populate wrote.
type Fixture struct {
	Dir   string
	Clock *Clock
	// Tenants have a database with data; Idle is a tenant created but
	// never used, so it has no database file.
	Tenants []string
	Idle    string
	// Tokens are API keys of Tenants[0] by what is special about them:
	// live, readonly (expires in 30 days), revoked, pinned, expired.
	Tokens map[string]string
	// Pins are the pinned key's pins.
	Pins map[string]string
	// Rows is how many rows were written, by table.
	Rows map[string]int
}

// Statuses are the task statuses, each of which the data uses.
var Statuses = []string{capability.TaskTodo, capability.TaskDoing, capability.TaskWaiting,
	capability.TaskReview, capability.TaskDone, capability.TaskCancelled}

// Populate creates a data directory in dir and fills it.
func Populate(t testing.TB, dir string, o Options) *Fixture {
	t.Helper()
	if o.Tenants <= 0 {
		o.Tenants = 3
	}
	if o.Tasks <= 0 {
		o.Tasks = 12
	}
	ctx := context.Background()
	clock := NewClock()
	db, err := sqlite.Open(ctx, sqlite.Options{Dir: dir, Now: clock.Now})
	require.NoError(t, err)
	defer func() { require.NoError(t, db.Close()) }()
	f := &Fixture{Dir: dir, Clock: clock, Tokens: map[string]string{}, Rows: map[string]int{}}
	ctl := db.Control()

	names := []string{"acme-corp", "beta-labs", "gamma-works"}
	for i := range o.Tenants {
		slug := fmt.Sprintf("tenant-%03d", i+1)
		if o.Tenants <= len(names) {
			slug = names[i]
		}
		f.Tenants = append(f.Tenants, slug)
		require.NoError(t, ctl.CreateTenant(ctx, &capability.Tenant{Slug: slug, Name: "Tenant " + slug + " — Ünïcödé"}))
	}
	f.Idle = "idle-tenant"
	require.NoError(t, ctl.CreateTenant(ctx, &capability.Tenant{Slug: f.Idle}))
	f.Rows["tenants"] = len(f.Tenants) + 1

	// Keys: one live key per tenant, and every special kind on the first.
	prefixes := map[string]string{}
	key := func(name, tenant string, scopes []capability.Scope, expires time.Time) {
		tok, k, err := ctl.CreateKey(ctx, tenant, scopes, expires)
		require.NoError(t, err)
		if tenant == f.Tenants[0] {
			f.Tokens[name] = tok
		}
		prefixes[tenant+"/"+name] = k.Prefix
	}
	for _, slug := range f.Tenants {
		key("live", slug, capability.AllScopes, time.Time{})
	}
	first := f.Tenants[0]
	key("readonly", first, []capability.Scope{capability.ScopeProjectsRead}, clock.Now().Add(30*24*time.Hour))
	key("revoked", first, capability.AllScopes, time.Time{})
	key("pinned", first, capability.AllScopes, time.Time{})
	key("expired", first, capability.AllScopes, clock.Now().Add(time.Hour))
	key("idle", f.Idle, capability.AllScopes, time.Time{})
	require.NoError(t, ctl.RevokeKey(ctx, prefixes[first+"/revoked"]))
	f.Pins = map[string]string{"projects.create_task": "0.1.0", "projects.get_task": "0.1.0"}
	require.NoError(t, ctl.PinKey(ctx, prefixes[first+"/pinned"], f.Pins))
	f.Rows["api_keys"] = len(prefixes)

	// Capability sets: public and private, members bare and pinned.
	sets := []*capability.CapabilitySet{
		{Owner: first, Name: "starter", Description: "What a new agent needs", IsPublic: true, Source: "cli", CreatedBy: "cli",
			Members: []capability.SetMember{{Name: "projects.create_task", Version: "0.1.0", Notes: "pinned <on purpose> & kept"}, {Name: "projects.get_task"}},
			Tags:    []string{"go", "ops"}},
		{Owner: first, Name: "empty", Source: "api", CreatedBy: prefixes[first+"/live"]},
	}
	if len(f.Tenants) > 1 {
		sets = append(sets, &capability.CapabilitySet{Owner: f.Tenants[1], Name: "starter", Description: "Same name, other owner", Source: "api",
			CreatedBy: "cli", Members: []capability.SetMember{{Name: "projects.list_tasks"}}, Tags: []string{"ops"}})
	}
	for _, s := range sets {
		require.NoError(t, ctl.CreateSet(ctx, s))
	}
	sets[0].Description = "What a new agent needs, updated"
	sets[0].UpdatedAt = time.Time{}
	require.NoError(t, ctl.UpdateSet(ctx, sets[0]))
	f.Rows["capability_sets"] = len(sets)

	for _, slug := range f.Tenants {
		populateTenant(t, db, f, slug, o.Tasks)
	}

	// The call log: ordinary calls, a replay, a failure, a negative
	// duration (the clock stepped back during the call) and a call that
	// failed to authenticate, which has no tenant and no key.
	var calls []capability.CallRecord
	for _, slug := range f.Tenants {
		for i := range max(o.Tasks, 4) {
			c := capability.CallRecord{At: clock.Now(), Tenant: slug, KeyPrefix: prefixes[slug+"/live"],
				Capability: "projects.create_task@0.1.0", Outcome: "ok", Duration: time.Duration(1000+i) * time.Microsecond}
			switch i {
			case 1:
				c.Replayed = true
			case 2:
				c.Outcome, c.Capability = "invalid_input", "projects.get_task"
			case 3:
				c.Duration = -1500 * time.Microsecond
			}
			calls = append(calls, c)
		}
	}
	calls = append(calls, capability.CallRecord{At: clock.Now(), Capability: "projects.list_tasks", Outcome: "unauthenticated", Duration: 3 * time.Microsecond})
	require.NoError(t, ctl.RecordCalls(ctx, calls))
	f.Rows["calls"] = len(calls)

	var results []capability.ConformanceResult
	for _, slug := range f.Tenants {
		for i, kind := range []string{"happy", "rejection", "generated"} {
			r := capability.ConformanceResult{RunID: "run-" + slug, Provider: "projectkit:" + slug, Capability: "projects.create_task",
				Version: "0.1.0", CaseID: fmt.Sprintf("case-%d", i), Kind: kind, Outcome: "pass",
				Duration: time.Duration(2500+i) * time.Microsecond, StartedAt: clock.Now()}
			if kind == "generated" {
				r.Outcome, r.Message = "fail", "want invalid_input, got ok\nsecond line"
			}
			results = append(results, r)
		}
	}
	require.NoError(t, ctl.RecordConformance(ctx, results))
	f.Rows["conformance_results"] = len(results)

	// Expire the expiring key last, so it was live while calls were made.
	clock.Advance(2 * time.Hour)
	return f
}

// populateTenant fills one tenant's database in a few transactions.
func populateTenant(t testing.TB, db *sqlite.DB, f *Fixture, slug string, tasks int) {
	t.Helper()
	ctx := context.Background()
	store, err := db.Tenants().Tenant(ctx, slug)
	require.NoError(t, err)
	var staff []*capability.Staff
	var projects []*capability.Project
	var all []*capability.Task
	require.NoError(t, store.Update(ctx, func(tx capability.Tx) error {
		for _, s := range []*capability.Staff{
			{Name: "Ada Lovelace", Email: "ada@example.com", Role: "engineer"},
			{Name: "Zoë Ödegaard", Email: "", Role: ""},
		} {
			if err := tx.CreateStaff(ctx, s); err != nil {
				return err
			}
			staff = append(staff, s)
		}
		for _, p := range []*capability.Project{
			{Name: "Website", Description: "The public site\nwith two lines"},
			{Name: "Plateforme 日本語 🚀", Description: ""},
		} {
			if err := tx.CreateProject(ctx, p); err != nil {
				return err
			}
			projects = append(projects, p)
		}
		return nil
	}))
	f.Rows["staff"] += len(staff)
	f.Rows["projects"] += len(projects)

	// Tasks in batches, as an import would write them.
	const batch = 500
	for from := 0; from < tasks; from += batch {
		require.NoError(t, store.Update(ctx, func(tx capability.Tx) error {
			for i := from; i < min(from+batch, tasks); i++ {
				task, err := createTask(ctx, tx, f, i, projects, staff)
				if err != nil {
					return err
				}
				all = append(all, task)
			}
			return nil
		}))
	}
	f.Rows["tasks"] += len(all)

	require.NoError(t, store.Update(ctx, func(tx capability.Tx) error {
		return tx.SaveIdempotentResult(ctx, &capability.IdempotentResult{Key: "idem-" + slug, Capability: "projects.create_task@0.1.0",
			ArgsHash: hex.EncodeToString(make([]byte, 32)), Result: []byte(`{"ok": true, "task": {"id": "` + all[0].ID + `"}}`)})
	}))
	f.Rows["idempotency_keys"]++
}

// createTask writes task i with details, actions, runs, logs and artifacts
// by its number, so every variant appears.
func createTask(ctx context.Context, tx capability.Tx, f *Fixture, i int, projects []*capability.Project, staff []*capability.Staff) (*capability.Task, error) {
	status := Statuses[i%len(Statuses)]
	task := &capability.Task{
		ProjectID:   projects[i%len(projects)].ID,
		Title:       fmt.Sprintf("Task %d — fix the “quotes” & <tags>", i),
		Description: []string{"", "Line one\nLine two\ttabbed", "Ünïcödé 🚀"}[i%3],
		Status:      status,
		Priority:    []string{"", "low", "medium", "high"}[i%4],
		AgentVendor: []string{"", "anthropic"}[i%2],
	}
	if i%3 != 0 {
		task.DueDate = time.Date(2025, time.Month(1+i%12), 1+i%28, 0, 0, 0, 0, time.UTC).Format("2006-01-02")
	}
	if i%2 == 0 {
		task.AssigneeID = staff[i%len(staff)].ID
	}
	if status == capability.TaskCancelled && i%4 != 3 {
		task.CancelReason = "superseded by another task"
	}
	if err := tx.CreateTask(ctx, task); err != nil {
		return nil, err
	}

	if i%2 == 0 {
		budget := []float64{42.5, 3, 0.1 + 0.2}[i%3]
		d := &capability.TaskDetails{TaskID: task.ID, BudgetUSD: &budget, Labels: []string{"x", "y"}}
		switch i % 4 {
		case 0:
			d.Category, d.TaskType = "engineering", "bug_fix"
			d.Requirements = json.RawMessage(`{"b": 1,  "a": [true, null, 1.50]}`)
			d.ExpiresAt = f.Clock.Now().Add(48 * time.Hour)
		case 2:
			d.Category, d.BudgetUSD, d.Labels = "design", nil, nil
		}
		if err := tx.SaveTaskDetails(ctx, d); err != nil {
			return nil, err
		}
		f.Rows["task_details"]++
	}

	for j, state := range []string{capability.ActionOpen, capability.ActionDone, capability.ActionCancelled}[:1+i%3] {
		a := &capability.TaskAction{TaskID: task.ID, Title: fmt.Sprintf("Step %d", j+1), Notes: []string{"", "check the logs"}[j%2], State: state}
		if j == 1 {
			a.AssigneeID = staff[0].ID
		}
		if err := tx.CreateTaskAction(ctx, a); err != nil {
			return nil, err
		}
		f.Rows["task_actions"]++
	}

	if i%3 == 0 {
		runStatus := []string{capability.RunRunning, capability.RunSucceeded, capability.RunFailed, capability.RunCancelled}[(i/3)%4]
		r := &capability.TaskRun{TaskID: task.ID, Status: capability.RunRunning}
		if err := tx.CreateTaskRun(ctx, r); err != nil {
			return nil, err
		}
		f.Rows["task_runs"]++
		var entries []*capability.RunLogEntry
		for k := range 5 {
			entries = append(entries, &capability.RunLogEntry{Level: []string{"info", "warn", "error"}[k%3],
				Message: fmt.Sprintf("step %d: résumé ✓ %s", k, []string{"", "\"quoted\"", "{json-ish}"}[k%3])})
		}
		if err := tx.AppendRunLog(ctx, r.ID, entries); err != nil {
			return nil, err
		}
		f.Rows["task_run_logs"] += len(entries)
		if runStatus != capability.RunRunning {
			r.Status, r.Branch, r.Stage = runStatus, "fix/task-"+fmt.Sprint(i), "deploy"
			r.UpdatedAt, r.FinishedAt = f.Clock.Now(), f.Clock.Now()
			switch runStatus {
			case capability.RunSucceeded:
				r.Output = json.RawMessage(`{ "pr" : "https://example.com/pr/1", "n": 1.50 }`)
				r.State = json.RawMessage(`{"z":1,"a":{"nested":[1,2,3]}}`)
			case capability.RunFailed:
				r.ErrorMessage = "tests failed:\n  TestX"
			}
			if err := tx.UpdateTaskRun(ctx, r); err != nil {
				return nil, err
			}
		}
		if i%2 == 0 {
			for k, content := range [][]byte{[]byte("hello, artifact\n"), allBytes(), {}} {
				sum := sha256.Sum256(content)
				a := &capability.RunArtifact{RunID: r.ID, Name: []string{"notes.txt", "blob.bin", "empty"}[k],
					ContentType: []string{"text/plain", "application/octet-stream", "text/plain"}[k],
					Size:        int64(len(content)), SHA256: hex.EncodeToString(sum[:]), Content: content}
				if err := tx.CreateRunArtifact(ctx, a); err != nil {
					return nil, err
				}
				f.Rows["task_run_artifacts"]++
			}
		}
	}
	return task, nil
}

// allBytes returns every byte value once, NUL included: binary content
// must survive byte for byte.
func allBytes() []byte {
	b := make([]byte, 256)
	for i := range b {
		b[i] = byte(i)
	}
	return b
}
