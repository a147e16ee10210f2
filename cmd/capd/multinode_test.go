package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/capd-dev/capd/internal/capability"
	"github.com/capd-dev/capd/internal/store/pgtest"
	"github.com/capd-dev/capd/internal/store/postgres"
)

// pgCluster is one PostgreSQL database with two tenants, a project in the
// first and a full-access key for each.
type pgCluster struct {
	dsn           string
	keyA, keyB    string
	projectA      string
	tenantA, tenB string
}

func newPGCluster(t *testing.T) *pgCluster {
	t.Helper()
	ctx := context.Background()
	c := &pgCluster{dsn: pgtest.DSN(t), tenantA: "north-wind", tenB: "south-wind"}
	db, err := postgres.Open(ctx, c.dsn, postgres.Options{})
	require.NoError(t, err)
	defer db.Close()
	for _, slug := range []string{c.tenantA, c.tenB} {
		require.NoError(t, db.Control().CreateTenant(ctx, &capability.Tenant{Slug: slug}))
	}
	c.keyA, _, err = db.Control().CreateKey(ctx, c.tenantA, capability.AllScopes, time.Time{})
	require.NoError(t, err)
	c.keyB, _, err = db.Control().CreateKey(ctx, c.tenB, capability.AllScopes, time.Time{})
	require.NoError(t, err)
	store, err := db.Tenants().Tenant(ctx, c.tenantA)
	require.NoError(t, err)
	p := &capability.Project{Name: "Shared roadmap"}
	require.NoError(t, store.Update(ctx, func(tx capability.Tx) error { return tx.CreateProject(ctx, p) }))
	c.projectA = p.ID
	return c
}

// startNode runs a capd serve process on the cluster's database with its
// own data directory and no rate limits, as a node behind a load
// balancer would run.
func (c *pgCluster) startNode(t *testing.T, extra ...string) *capdProc {
	t.Helper()
	args := append([]string{"--store", c.dsn, "--rate-limit", "0", "--tenant-rate-limit", "0"}, extra...)
	return startCapd(t, t.TempDir(), args...)
}

// taskStatus reads a task's status through a node.
func taskStatus(t *testing.T, base, key, id string) string {
	t.Helper()
	out := tapiOK(t, base, key, "projects.get_task", map[string]any{"task_id": id})
	return out["task"].(map[string]any)["status"].(string)
}

// TestTwoNodesOnePostgres runs two capd serve processes on one PostgreSQL
// database, as two nodes behind a load balancer: what one node writes the
// other reads and changes, an idempotency key sent to both creates one
// task, concurrent transitions through both keep one valid history, a
// set changed through one node is announced to sessions on the other, and
// neither node shows one tenant's data to another.
func TestTwoNodesOnePostgres(t *testing.T) {
	c := newPGCluster(t)
	n1, n2 := c.startNode(t), c.startNode(t)
	nodes := []string{n1.base, n2.base}

	t.Run("WriteOnOneNodeReadAndChangeOnTheOther", func(t *testing.T) {
		created := tapiOK(t, n1.base, c.keyA, "projects.create_task@0.1.0", map[string]any{"project_id": c.projectA, "title": "Plan the offsite"})
		id := created["task_id"].(string)
		assert.Equal(t, "todo", taskStatus(t, n2.base, c.keyA, id))
		moved := tapiOK(t, n2.base, c.keyA, "projects.transition_task", map[string]any{"task_id": id, "to": "doing"})
		assert.Equal(t, "todo", moved["from"])
		tapiOK(t, n2.base, c.keyA, "projects.cancel_task", map[string]any{"task_id": id, "reason": "offsite moved to spring"})
		assert.Equal(t, "cancelled", taskStatus(t, n1.base, c.keyA, id))

		// The other tenant sees none of it, on either node.
		for _, base := range nodes {
			r := tapiCall(t, base, c.keyB, "projects.get_task", map[string]any{"task_id": id})
			assert.Equal(t, "unknown_task", r.errorCode(), "%s", r.Body)
			list := tapiOK(t, base, c.keyB, "projects.list_tasks", map[string]any{})
			assert.Empty(t, list["items"])
		}
	})

	t.Run("MCPSessionBehindRoundRobinBalancer", func(t *testing.T) {
		// A load balancer without sticky sessions: each request goes to
		// the next node, so one MCP session's initialize, tools/list and
		// calls land on different processes.
		var next, served atomic.Int64
		proxies := make([]*httputil.ReverseProxy, len(nodes))
		for i, base := range nodes {
			u, err := url.Parse(base)
			require.NoError(t, err)
			proxies[i] = httputil.NewSingleHostReverseProxy(u)
		}
		lb := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			served.Add(1)
			proxies[next.Add(1)%int64(len(proxies))].ServeHTTP(w, r)
		}))
		defer lb.Close()
		cl := connectHTTP(t, lb.URL+"/mcp", c.keyA)
		tools, err := cl.ListTools(context.Background(), mcp.ListToolsRequest{})
		require.NoError(t, err)
		assert.NotEmpty(t, tools.Tools)
		var ids []string
		for i := range 4 {
			_, out := call(t, cl, "projects.create_task", map[string]any{"project_id": c.projectA, "title": fmt.Sprintf("Balanced %d", i)})
			ids = append(ids, out["task"].(map[string]any)["task_id"].(string))
		}
		for _, id := range ids {
			_, out := call(t, cl, "projects.get_task", map[string]any{"task_id": id})
			assert.Equal(t, id, out["task"].(map[string]any)["task_id"])
		}
		assert.GreaterOrEqual(t, served.Load(), int64(10), "requests went through the balancer to both nodes")
	})

	t.Run("OneIdempotencyKeyOneTaskAcrossNodes", func(t *testing.T) {
		const title = "Book the venue"
		type answer struct {
			status   int
			id       string
			replayed bool
		}
		answers := make([]answer, 2)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i, base := range nodes {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				r := tapiCallWith(t, base, c.keyA, "projects.create_task@0.1.0",
					map[string]any{"project_id": c.projectA, "title": title}, map[string]string{"Idempotency-Key": "venue-booking-1"})
				id, _ := r.JSON["task_id"].(string)
				answers[i] = answer{r.Status, id, r.Header.Get("Idempotent-Replayed") == "true"}
			}()
		}
		close(start)
		wg.Wait()
		for _, a := range answers {
			require.Equal(t, http.StatusOK, a.status)
		}
		assert.Equal(t, answers[0].id, answers[1].id, "both nodes answer with the same task")
		assert.True(t, answers[0].replayed != answers[1].replayed, "exactly one answer is a replay: %+v", answers)
		list := tapiOK(t, n1.base, c.keyA, "projects.list_tasks", map[string]any{"query": title})
		assert.Len(t, list["items"], 1, "one task was created")
	})

	t.Run("ConcurrentTransitionsKeepOneHistory", func(t *testing.T) {
		created := tapiOK(t, n1.base, c.keyA, "projects.create_task@0.1.0", map[string]any{"project_id": c.projectA, "title": "Contended"})
		id := created["task_id"].(string)
		targets := []string{"doing", "todo", "review", "waiting", "doing", "done"}
		type move struct{ from, to string }
		var (
			mu       sync.Mutex
			moves    []move
			refused  int
			failures []string
		)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				to := targets[i%len(targets)]
				r := tapiCall(t, nodes[i%2], c.keyA, "projects.transition_task", map[string]any{"task_id": id, "to": to})
				mu.Lock()
				defer mu.Unlock()
				switch {
				case r.Status == http.StatusOK:
					moves = append(moves, move{r.JSON["from"].(string), to})
				case r.errorCode() == "invalid_transition":
					refused++
				default:
					failures = append(failures, string(r.Body))
				}
			}()
		}
		close(start)
		wg.Wait()
		require.Empty(t, failures, "every transition either moves the task or is refused as invalid")
		require.Equal(t, 20, len(moves)+refused)
		require.NotEmpty(t, moves, "todo -> doing is always possible first")

		// Serialised transitions form one path from todo to the final
		// status: every move is allowed, and each status is left as often
		// as it is entered (todo once more, the final status once less).
		// A lost update (two moves from the same read) breaks the count.
		allowed := map[string][]string{"todo": {"doing"}, "doing": {"todo", "waiting", "review"}, "waiting": {"doing"}, "review": {"doing", "done"}, "done": {"todo"}}
		balance := map[string]int{}
		for _, m := range moves {
			assert.Contains(t, allowed[m.from], m.to, "move %s -> %s", m.from, m.to)
			balance[m.from]++
			balance[m.to]--
		}
		final := taskStatus(t, n2.base, c.keyA, id)
		balance["todo"]--
		balance[final]++
		for status, b := range balance {
			assert.Zero(t, b, "status %s entered and left unevenly: moves %v, final %s", status, moves, final)
		}
		t.Logf("%d moves, %d refused, final status %s", len(moves), refused, final)
	})

	t.Run("SetChangeReachesSessionsOnTheOtherNode", func(t *testing.T) {
		sets := n1.base + "/api/v1/org/" + c.tenantA + "/capability-sets"
		code, out := api(t, "POST", sets, c.keyA, `{"name":"triage","members":["projects.list_tasks"]}`)
		require.Equal(t, http.StatusCreated, code, "%v", out)

		var changed atomic.Int32
		cl := connectListening(t, n2.base+"/mcp/sets/triage", c.keyA, &changed)
		assert.Equal(t, []string{"projects.list_tasks"}, keys(toolVersions(t, cl)))

		code, out = api(t, "PATCH", sets+"/triage", c.keyA, `{"members":["projects.list_tasks","projects.get_task"]}`)
		require.Equal(t, http.StatusOK, code, "%v", out)
		require.Eventually(t, func() bool { return changed.Load() > 0 }, 10*time.Second, 20*time.Millisecond,
			"a session on node 2 hears tools/list_changed for a change made through node 1")
		assert.ElementsMatch(t, []string{"projects.list_tasks", "projects.get_task"}, keys(toolVersions(t, cl)))

		code, _ = api(t, "DELETE", sets+"/triage", c.keyA, "")
		require.Equal(t, http.StatusNoContent, code)
		require.Eventually(t, func() bool { return changed.Load() > 1 }, 10*time.Second, 20*time.Millisecond, "deletion announced")
	})
}

// TestTwoNodesTakeTurnsAtConformance starts two nodes on one database at
// once with the scheduled conformance run on: one runs the suite, the
// other skips its turn, so one run is recorded, not two.
func TestTwoNodesTakeTurnsAtConformance(t *testing.T) {
	c := newPGCluster(t)
	var n1, n2 *capdProc
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); n1 = c.startNode(t, "--conformance-interval", "1h") }()
	go func() { defer wg.Done(); n2 = c.startNode(t, "--conformance-interval", "1h") }()
	wg.Wait()

	ctx := context.Background()
	db, err := postgres.Open(ctx, c.dsn, postgres.Options{})
	require.NoError(t, err)
	defer db.Close()
	logs := func() string { return n1.stderr.String() + n2.stderr.String() }
	require.Eventually(t, func() bool {
		return strings.Contains(logs(), `msg="conformance run"`)
	}, 3*time.Minute, 200*time.Millisecond, "a node runs the suite")
	require.Eventually(t, func() bool {
		return strings.Contains(logs(), "skipping this turn")
	}, 30*time.Second, 200*time.Millisecond, "the other node skips its turn")
	results, err := db.Control().ListConformance(ctx, capability.ConformanceFilter{Limit: 100000})
	require.NoError(t, err)
	runs := map[string]bool{}
	for _, r := range results {
		runs[r.RunID] = true
		assert.Equal(t, capability.OutcomePass, r.Outcome, "%s %s@%s %s: %s", r.Provider, r.Capability, r.Version, r.CaseID, r.Message)
	}
	assert.Len(t, runs, 1, "one run recorded for two nodes")
	assert.Equal(t, 1, strings.Count(logs(), `msg="conformance run"`), "%s", logs())

	// /metrics on both nodes reports the run, the node that skipped its
	// turn too: the figures come from the shared store.
	cases := map[string]float64{}
	for i, n := range []*capdProc{n1, n2} {
		fams := scrape(t, n.base+"/metrics", "")
		for _, slug := range []string{c.tenantA, c.tenB} {
			p := map[string]string{"provider": "projectkit:" + slug}
			assert.Equal(t, 1.0, value(t, fams, "capd_conformance_pass_ratio", p), "node %d, %s", i+1, slug)
			got := value(t, fams, "capd_conformance_cases", p)
			if want, seen := cases[slug]; seen {
				assert.Equal(t, want, got, "node %d, %s: the same cases on every node", i+1, slug)
			}
			cases[slug] = got
		}
		assert.Greater(t, value(t, fams, "capd_store_connections_max", nil), 0.0, "node %d: its PostgreSQL pool", i+1)
		assert.GreaterOrEqual(t, value(t, fams, "capd_store_connection_acquires_total", nil), 1.0)
		_, lru := sample(fams, "capd_tenant_databases_open", nil)
		assert.False(t, lru, "node %d: the tenant LRU series are SQLite's", i+1)
	}
}
