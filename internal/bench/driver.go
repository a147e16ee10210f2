package bench

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"
)

// Operations the load tool knows how to call, with arguments it can build
// for any tenant it has prepared. NoopTool is the floor server's tool.
const (
	OpCreateTask     = "projects.create_task"
	OpGetTask        = "projects.get_task"
	OpListTasks      = "projects.list_tasks"
	OpTransitionTask = "projects.transition_task"
	NoopTool         = "noop"
)

// Operations lists the capabilities a mix may name.
var Operations = []string{OpCreateTask, OpGetTask, OpListTasks, OpTransitionTask}

// Weighted is one operation of a mix and its share.
type Weighted struct {
	Op     string
	Weight int
}

// ParseMix reads "create_task=2,get_task=1" (the "projects." prefix is
// optional) into a mix.
func ParseMix(s string) ([]Weighted, error) {
	var mix []Weighted
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, w, hasWeight := strings.Cut(part, "=")
		weight := 1
		if hasWeight {
			n, err := strconv.Atoi(w)
			if err != nil || n < 1 {
				return nil, fmt.Errorf("mix %q: weight %q of %s must be a whole number ≥ 1", s, w, name)
			}
			weight = n
		}
		op, err := operation(name)
		if err != nil {
			return nil, fmt.Errorf("mix %q: %w", s, err)
		}
		mix = append(mix, Weighted{Op: op, Weight: weight})
	}
	if len(mix) == 0 {
		return nil, fmt.Errorf("mix %q names no operation; use e.g. create_task=1,get_task=4", s)
	}
	return mix, nil
}

func operation(name string) (string, error) {
	if !strings.Contains(name, ".") {
		name = "projects." + name
	}
	for _, op := range Operations {
		if op == name {
			return op, nil
		}
	}
	return "", fmt.Errorf("unknown operation %q: the load tool can call %s", name, strings.Join(Operations, ", "))
}

// MixString writes a mix back in ParseMix's form.
func MixString(mix []Weighted) string {
	parts := make([]string, len(mix))
	for i, w := range mix {
		parts[i] = strings.TrimPrefix(w.Op, "projects.") + "=" + strconv.Itoa(w.Weight)
	}
	return strings.Join(parts, ",")
}

// Tenant is one tenant the load runs against: its key and the objects
// Prepare made for it.
type Tenant struct {
	Slug    string `json:"tenant"`
	Key     string `json:"token"`
	project string
	shared  []string // tasks any client reads
	own     []string // one task per client, which only that client moves
	doing   []bool   // whether own[i] is in doing (else todo), across runs
}

// Node is one server process of a target.
type Node struct {
	// URL is the MCP endpoint, e.g. http://127.0.0.1:8080/mcp.
	URL string
	// PID is the server's process, for its CPU and memory; 0 if unknown.
	PID int
}

// Target is a server under load: one process, or several nodes serving
// the same tenants from one shared store.
type Target struct {
	// Nodes serve the target. Client i talks to node i % len(Nodes) for
	// the whole run, as behind a round-robin balancer with sticky
	// clients, so every node gets its share of clients.
	Nodes []Node
	// Tenants are called in turn (uniformly or Zipf-skewed); the floor
	// server needs one entry whose key is ignored.
	Tenants []*Tenant
	// PostgresPID is the PostgreSQL server's postmaster when the nodes
	// share a PostgreSQL store on this machine, 0 otherwise. The CPU of
	// it and its children (its workers and a backend per connection) is
	// reported apart from the nodes': it is part of what a call costs.
	PostgresPID int
}

// pids lists the nodes' processes.
func (t *Target) pids() []int {
	out := make([]int, len(t.Nodes))
	for i, n := range t.Nodes {
		out[i] = n.PID
	}
	return out
}

// Load describes how hard and in what shape to drive a target.
type Load struct {
	Clients  int
	Duration time.Duration
	Warmup   time.Duration
	// Rate, when positive, is the fixed arrival rate in calls per second
	// (latency mode); otherwise each client calls again as soon as it has
	// its answer (closed loop, throughput mode).
	Rate float64
	// Zipf, when above 1, skews the choice of tenant with that exponent;
	// otherwise tenants are chosen uniformly.
	Zipf float64
	Mix  []Weighted
	Seed uint64
}

// Mode names the load's loop for reports.
func (l Load) Mode() string {
	if l.Rate > 0 {
		return "rate"
	}
	return "closed"
}

// Dist names the tenant distribution for reports.
func (l Load) Dist() string {
	if l.Zipf > 1 {
		return fmt.Sprintf("zipf(s=%g)", l.Zipf)
	}
	return "uniform"
}

type keyCtx struct{}

// newClient connects one MCP client over streamable HTTP whose key is
// taken from each call's context, so one client can act for any tenant.
func newClient(ctx context.Context, url string, hc *http.Client, defaultKey string) (*client.Client, error) {
	c, err := client.NewStreamableHttpClient(url,
		transport.WithHTTPBasicClient(hc),
		transport.WithHTTPHeaderFunc(func(ctx context.Context) map[string]string {
			key, _ := ctx.Value(keyCtx{}).(string)
			if key == "" {
				key = defaultKey
			}
			return map[string]string{"Authorization": "Bearer " + key}
		}))
	if err != nil {
		return nil, err
	}
	if err := c.Start(ctx); err != nil {
		return nil, err
	}
	req := mcp.InitializeRequest{}
	req.Params.ProtocolVersion = mcp.LATEST_PROTOCOL_VERSION
	req.Params.ClientInfo = mcp.Implementation{Name: "capd-bench", Version: "1"}
	if _, err := c.Initialize(ctx, req); err != nil {
		c.Close()
		return nil, fmt.Errorf("initialize %s: %w", url, err)
	}
	return c, nil
}

// httpClient is shared by every MCP client of a run, with enough idle
// connections that none is reopened under load.
func httpClient(clients int) *http.Client {
	return &http.Client{Timeout: time.Minute, Transport: &http.Transport{
		MaxIdleConns: 4 * clients, MaxIdleConnsPerHost: 4 * clients, IdleConnTimeout: time.Minute,
	}}
}

// callTool calls name as tenant and returns the structured answer, or an
// error naming the tool error's code.
func callTool(ctx context.Context, c *client.Client, tenant *Tenant, name string, args map[string]any) (map[string]any, error) {
	req := mcp.CallToolRequest{}
	req.Params.Name = name
	req.Params.Arguments = args
	res, err := c.CallTool(context.WithValue(ctx, keyCtx{}, tenant.Key), req)
	if err != nil {
		return nil, &callError{code: "transport", err: err}
	}
	out, _ := res.StructuredContent.(map[string]any)
	if res.IsError {
		code, _ := out["error"].(string)
		if code == "" {
			code = "tool_error"
			for _, c := range res.Content {
				if t, ok := c.(mcp.TextContent); ok && strings.Contains(t.Text, "rate_limited") {
					code = "rate_limited"
				}
			}
		}
		msg, _ := out["message"].(string)
		return out, &callError{code: code, err: errors.New(msg)}
	}
	return out, nil
}

// callError is a failed call, classified for the report.
type callError struct {
	code string
	err  error
}

func (e *callError) Error() string { return e.code + ": " + e.err.Error() }

// Prepare creates, in each tenant through the target itself, a project,
// ten tasks every client reads and one task per client that only that
// client moves, so every operation of a mix has something to act on.
func Prepare(ctx context.Context, t *Target, clients int) error {
	if len(t.Nodes) == 0 {
		return errors.New("prepare: the target has no node")
	}
	hc := httpClient(clients)
	// One node is enough: nodes share the store, so the others see what
	// it writes.
	c, err := newClient(ctx, t.Nodes[0].URL, hc, t.Tenants[0].Key)
	if err != nil {
		return err
	}
	defer c.Close()
	stamp := time.Now().UTC().Format("20060102T150405.000")
	for _, tn := range t.Tenants {
		out, err := callTool(ctx, c, tn, "projects.create_project", map[string]any{"name": "Load " + stamp})
		if err != nil {
			return fmt.Errorf("prepare %s: create_project: %w", tn.Slug, err)
		}
		tn.project, _ = out["project"].(map[string]any)["project_id"].(string)
		tn.shared, tn.own, tn.doing = nil, nil, make([]bool, clients)
		for i := 0; i < 10+clients; i++ {
			out, err := callTool(ctx, c, tn, OpCreateTask, map[string]any{"project_id": tn.project, "title": fmt.Sprintf("Load task %d", i)})
			if err != nil {
				return fmt.Errorf("prepare %s: create_task: %w", tn.Slug, err)
			}
			id, _ := out["task_id"].(string)
			if i < 10 {
				tn.shared = append(tn.shared, id)
			} else {
				tn.own = append(tn.own, id)
			}
		}
	}
	return nil
}

// Result is one measured run of one scenario.
type Result struct {
	Scenario  string           `json:"scenario"`
	Target    string           `json:"target"`
	Mode      string           `json:"mode"`
	Clients   int              `json:"clients"`
	Tenants   int              `json:"tenants"`
	Dist      string           `json:"distribution"`
	Rate      float64          `json:"rate,omitempty"`
	Seconds   float64          `json:"seconds"`
	Calls     int64            `json:"calls"`
	CallsPerS float64          `json:"calls_per_s"`
	LatencyMs Latency          `json:"latency_ms"`
	Errors    map[string]int64 `json:"errors"`
	// LateStarts counts, in rate mode, calls that began more than 1 ms
	// after their scheduled time because every client was busy; their
	// latency counts from the schedule.
	LateStarts int64 `json:"late_starts,omitempty"`
	// Server is what the target's processes used, summed over its nodes;
	// absent unless every node's process could be measured.
	Server *serverUsage `json:"server,omitempty"`
	// Nodes breaks the calls and the usage down by node, in the target's
	// order.
	Nodes []*NodeResult `json:"nodes,omitempty"`
	// Postgres is the CPU of the PostgreSQL server's processes when the
	// target names its postmaster.
	Postgres *cpuUsage `json:"postgres,omitempty"`
}

// NodeResult is one node's share of a run: the measured calls of the
// clients that talked to it, and its process's usage.
type NodeResult struct {
	URL    string       `json:"url"`
	Calls  int64        `json:"calls"`
	Errors int64        `json:"errors"`
	Server *serverUsage `json:"server,omitempty"`
}

// ErrorCount is the number of failed calls.
func (r *Result) ErrorCount() int64 {
	var n int64
	for _, c := range r.Errors {
		n += c
	}
	return n
}

// worker is one client's state.
type worker struct {
	id     int
	node   int // index of the node this client talks to
	c      *client.Client
	rng    *rand.Rand
	zipf   *rand.Zipf
	n      int
	lat    []time.Duration
	errs   map[string]int64
	late   int64
	tenant []*Tenant
	mix    []Weighted
	total  int
}

func (w *worker) pickTenant() *Tenant {
	if w.zipf != nil {
		return w.tenant[w.zipf.Uint64()]
	}
	return w.tenant[w.rng.IntN(len(w.tenant))]
}

func (w *worker) pickOp() string {
	n := w.rng.IntN(w.total)
	for _, m := range w.mix {
		if n < m.Weight {
			return m.Op
		}
		n -= m.Weight
	}
	return w.mix[len(w.mix)-1].Op
}

// call makes one call of the mix and reports whether it succeeded.
func (w *worker) call(ctx context.Context) error {
	tn := w.pickTenant()
	op := w.pickOp()
	w.n++
	var args map[string]any
	switch op {
	case NoopTool:
		args = map[string]any{}
	case OpCreateTask:
		args = map[string]any{"project_id": tn.project, "title": fmt.Sprintf("Load %d.%d", w.id, w.n)}
	case OpGetTask:
		args = map[string]any{"task_id": tn.shared[w.rng.IntN(len(tn.shared))]}
	case OpListTasks:
		args = map[string]any{"project_id": tn.project, "limit": 10}
	case OpTransitionTask:
		// Only this client moves its own task, so it knows the task's
		// status (kept on the tenant, across runs): todo ⇄ doing.
		to := "doing"
		if tn.doing[w.id] {
			to = "todo"
		}
		args = map[string]any{"task_id": tn.own[w.id], "to": to}
		_, err := callTool(ctx, w.c, tn, op, args)
		if err == nil {
			tn.doing[w.id] = !tn.doing[w.id]
		}
		return err
	}
	_, err := callTool(ctx, w.c, tn, op, args)
	return err
}

// Run drives t with l and measures the calls made after the warm-up.
func Run(ctx context.Context, t *Target, l Load) (*Result, error) {
	if l.Clients < 1 || l.Duration <= 0 || len(l.Mix) == 0 || len(t.Tenants) == 0 || len(t.Nodes) == 0 {
		return nil, fmt.Errorf("load needs clients ≥ 1, a duration, a mix, a tenant and a node")
	}
	hc := httpClient(l.Clients)
	workers := make([]*worker, l.Clients)
	total := 0
	for _, m := range l.Mix {
		total += m.Weight
	}
	for i := range workers {
		node := i % len(t.Nodes)
		c, err := newClient(ctx, t.Nodes[node].URL, hc, t.Tenants[0].Key)
		if err != nil {
			return nil, err
		}
		defer c.Close()
		rng := rand.New(rand.NewPCG(l.Seed, uint64(i)))
		w := &worker{id: i, node: node, c: c, rng: rng, errs: map[string]int64{},
			tenant: t.Tenants, mix: l.Mix, total: total}
		if l.Zipf > 1 && len(t.Tenants) > 1 {
			w.zipf = rand.NewZipf(rng, l.Zipf, 1, uint64(len(t.Tenants)-1))
		}
		workers[i] = w
	}

	start := time.Now()
	measureFrom := start.Add(l.Warmup)
	end := measureFrom.Add(l.Duration)
	record := func(w *worker, began, scheduled time.Time, err error) {
		if began.Before(measureFrom) || began.After(end) {
			return
		}
		w.lat = append(w.lat, time.Since(scheduled))
		if err != nil {
			var ce *callError
			code := "other"
			if errors.As(err, &ce) {
				code = ce.code
			}
			w.errs[code]++
		}
	}

	var before []procSample
	var beforeOK []bool
	var pgBefore treeSample
	var pgBeforeOK bool
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		select {
		case <-time.After(time.Until(measureFrom)):
		case <-ctx.Done():
		}
		before, beforeOK = sampleNodes(t.pids())
		pgBefore, pgBeforeOK = sampleTree(t.PostgresPID)
	}()

	var wg sync.WaitGroup
	if l.Rate <= 0 {
		for _, w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for ctx.Err() == nil {
					began := time.Now()
					if began.After(end) {
						return
					}
					err := w.call(ctx)
					record(w, began, began, err)
				}
			}()
		}
	} else {
		// Fixed arrival rate: calls are scheduled every 1/rate whatever
		// the answers do, and a call's latency counts from its scheduled
		// time, so a stalled server shows up in the percentiles instead
		// of slowing the clients down (no coordinated omission).
		jobs := make(chan time.Time, 1<<16)
		interval := time.Duration(float64(time.Second) / l.Rate)
		go func() {
			defer close(jobs)
			for i := 0; ; i++ {
				at := start.Add(time.Duration(i) * interval)
				if at.After(end) || ctx.Err() != nil {
					return
				}
				if d := time.Until(at); d > 0 {
					time.Sleep(d)
				}
				jobs <- at
			}
		}()
		for _, w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for at := range jobs {
					if ctx.Err() != nil {
						continue
					}
					if time.Since(at) > time.Millisecond && !at.Before(measureFrom) {
						w.late++
					}
					err := w.call(ctx)
					record(w, at, at, err)
				}
			}()
		}
	}
	wg.Wait()
	<-sampled
	after, afterOK := sampleNodes(t.pids())
	pgAfter, pgAfterOK := sampleTree(t.PostgresPID)
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	res := &Result{Mode: l.Mode(), Clients: l.Clients, Tenants: len(t.Tenants), Dist: l.Dist(),
		Rate: l.Rate, Seconds: l.Duration.Seconds(), Errors: map[string]int64{}}
	var all []time.Duration
	usages := make([]*serverUsage, len(t.Nodes))
	for i, n := range t.Nodes {
		nr := &NodeResult{URL: n.URL}
		if beforeOK[i] && afterOK[i] {
			usages[i] = usageBetween(before[i], after[i])
			nr.Server = usages[i]
		}
		res.Nodes = append(res.Nodes, nr)
	}
	for _, w := range workers {
		all = append(all, w.lat...)
		nr := res.Nodes[w.node]
		nr.Calls += int64(len(w.lat))
		for k, v := range w.errs {
			res.Errors[k] += v
			nr.Errors += v
		}
		res.LateStarts += w.late
	}
	res.Calls = int64(len(all))
	res.CallsPerS = round2(float64(res.Calls) / l.Duration.Seconds())
	res.LatencyMs = latencyOf(all)
	res.Server = sumUsage(usages)
	if pgBeforeOK && pgAfterOK {
		res.Postgres = treeUsageBetween(pgBefore, pgAfter)
	}
	return res, nil
}

// errorSummary lists a result's errors, most frequent first.
func errorSummary(errs map[string]int64) string {
	if len(errs) == 0 {
		return "0"
	}
	type kv struct {
		k string
		v int64
	}
	var list []kv
	for k, v := range errs {
		list = append(list, kv{k, v})
	}
	sort.Slice(list, func(i, j int) bool { return list[i].v > list[j].v || (list[i].v == list[j].v && list[i].k < list[j].k) })
	parts := make([]string, len(list))
	for i, e := range list {
		parts[i] = fmt.Sprintf("%d %s", e.v, e.k)
	}
	return strings.Join(parts, ", ")
}
