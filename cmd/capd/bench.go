package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/capd-dev/capd/internal/bench"
	"github.com/capd-dev/capd/internal/capability"
)

type benchOptions struct {
	urls             []string
	keysFile         string
	serverPIDs       []int
	store            string // --store as given on bench's command line
	nodes            int
	nodesSet         bool
	pgPID            int
	tenants, clients int
	duration, warmup time.Duration
	runs             int
	rate, zipf       float64
	mix, singles     string
	noFloors         bool
	jsonOut, format  string
	seed             uint64
	maxOpenTenants   int
	serverFlags      []string
}

func newBenchCmd() *cobra.Command {
	var o benchOptions
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Drive capd with concurrent MCP clients and compare it with floors measured in the same run",
		Long: `bench drives concurrent MCP clients over streamable HTTP with a mix of
capabilities over many tenants and reports calls/s, latency percentiles,
errors and the server's CPU and memory. Each round also measures two floors —
a bare mcp-go server with a no-op tool (same transport and client settings,
its own process) and a raw SQLite insert loop with the store's pragmas — and
every capd figure is reported as a ratio against them; figures are medians
over --runs rounds.

Without --url it starts its own capd (this binary, rate limits off) on a
temporary data directory with --tenants tenants, and removes it afterwards.
With --store postgres://... it creates the tenants in that PostgreSQL
database instead (which must hold no bench-NNNNN tenants from an earlier
run) and starts --nodes capd processes on it; client i talks to node
i % nodes. bench reads --store only from its command line, never from
CAPD_STORE, so it writes tenants only where it is told to. --pg-pid names
the PostgreSQL server's postmaster (the first line of postmaster.pid) when
it runs on this machine: its CPU, with its backends', is reported apart.

With --url it drives running capd nodes (repeat --url, and --server-pid in
the same order, for several): --keys-file lists one key per tenant as
[{"tenant": "...", "token": "..."}] (the demo's demo-keys.json has that
shape), or --store names the store they share and bench creates its tenants
there; it writes a project and tasks into each tenant.`,
		Example: `  capd bench                                   # 16 clients, 50 tenants, 10 s per run, 3 rounds
  capd bench --rate 2000 --zipf 1.1            # fixed arrival rate, Zipf-skewed tenants
  capd bench --json bench.json --format json
  capd bench --store postgres://capd:secret@127.0.0.1:5432/capd_bench --nodes 2 --pg-pid 4242
  capd bench --url http://127.0.0.1:8080/mcp --keys-file capd-data/demo-keys.json --server-pid 1234
  capd bench --url http://10.0.0.1:8080/mcp --url http://10.0.0.2:8080/mcp --keys-file keys.json`,
		Args: cobra.NoArgs,
		// bench builds its own servers: CAPD_* and a config file are the
		// operator's settings for capd itself, so bench reads neither and
		// takes --store only from its command line (see Long).
		Annotations: map[string]string{noSettingsAnnotation: "true"},
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.store = cmd.Flags().Lookup("store").Value.String()
			o.nodesSet = cmd.Flags().Changed("nodes")
			return runBench(cmd.Context(), o, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&o.urls, "url", nil, "MCP endpoint of a running capd node (repeatable; default: start nodes)")
	f.StringVar(&o.keysFile, "keys-file", "", "with --url: JSON list of {tenant, token}, one key per tenant")
	f.IntSliceVar(&o.serverPIDs, "server-pid", nil, "with --url: each node's process id, for its CPU and memory (repeatable, in --url order)")
	f.IntVar(&o.nodes, "nodes", 1, "capd processes to start on --store; client i talks to node i % nodes")
	f.IntVar(&o.pgPID, "pg-pid", 0, "the PostgreSQL postmaster's process id, to report its CPU with its backends' (local server only)")
	f.IntVar(&o.tenants, "tenants", 50, "tenants to create when starting capd")
	f.IntVar(&o.clients, "clients", 16, "concurrent MCP clients")
	f.DurationVar(&o.duration, "duration", 10*time.Second, "measured time of each run")
	f.DurationVar(&o.warmup, "warmup", 2*time.Second, "unmeasured time before each run")
	f.IntVar(&o.runs, "runs", 3, "rounds; each scenario's figures are the median over them")
	f.Float64Var(&o.rate, "rate", 0, "fixed arrival rate in calls/s (latency mode); 0 runs a closed loop (throughput mode)")
	f.Float64Var(&o.zipf, "zipf", 0, "skew the choice of tenant with this Zipf exponent (> 1); 0 chooses uniformly")
	f.StringVar(&o.mix, "mix", "create_task=1,get_task=4,list_tasks=2,transition_task=1", "the mixed scenario: OPERATION=WEIGHT,... ("+strings.Join(bench.Operations, ", ")+")")
	f.StringVar(&o.singles, "single", "create_task,get_task", "operations also run alone, each compared with the no-op floor (empty: none)")
	f.BoolVar(&o.noFloors, "no-floors", false, "skip the floors (and the ratios)")
	f.StringVar(&o.jsonOut, "json", "", "also write the report as JSON to this file")
	f.StringVar(&o.format, "format", "text", "report on standard output as text or json")
	f.Uint64Var(&o.seed, "seed", 1, "seed of the clients' random choices")
	f.IntVar(&o.maxOpenTenants, "max-open-tenants", 1000, "when starting capd: its --max-open-tenants")
	f.StringArrayVar(&o.serverFlags, "server-flag", nil, "when starting capd: another flag for capd serve, e.g. --server-flag=--pprof=127.0.0.1:6060 (repeatable)")
	cmd.AddCommand(newFloorServerCmd())
	return cmd
}

// newFloorServerCmd serves the no-op floor; bench starts it as a child
// process so that it runs apart from the clients, as capd does.
func newFloorServerCmd() *cobra.Command {
	var addr string
	cmd := &cobra.Command{
		Use:    "floor-server",
		Short:  "Serve the load tool's no-op MCP floor (used by capd bench)",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return err
			}
			mux := http.NewServeMux()
			mux.Handle("/mcp", bench.NoopHandler())
			fmt.Fprintf(cmd.OutOrStdout(), "floor http://%s/mcp\n", ln.Addr())
			srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
			go func() { <-cmd.Context().Done(); srv.Close() }()
			if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
				return err
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:0", "listen address")
	return cmd
}

func runBench(ctx context.Context, o benchOptions, stdout, stderr io.Writer) error {
	if o.format != "text" && o.format != "json" {
		return usageError("--format %q: want text or json", o.format)
	}
	if o.clients < 1 || o.runs < 1 || o.duration <= 0 || o.warmup < 0 {
		return usageError("--clients and --runs must be ≥ 1 and --duration positive")
	}
	if o.zipf != 0 && o.zipf <= 1 {
		return usageError("--zipf %g: the exponent must be greater than 1 (or 0 for uniform)", o.zipf)
	}
	if err := checkBenchTopology(o); err != nil {
		return err
	}
	mix, err := bench.ParseMix(o.mix)
	if err != nil {
		return usageError("--mix: %v", err)
	}
	var singles []string
	if strings.TrimSpace(o.singles) != "" {
		ws, err := bench.ParseMix(o.singles)
		if err != nil {
			return usageError("--single: %v", err)
		}
		for _, w := range ws {
			singles = append(singles, w.Op)
		}
	}
	progress := stderr
	if ctx == nil {
		ctx = context.Background()
	}

	tmp, err := os.MkdirTemp("", "capd-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	target := &bench.Target{PostgresPID: o.pgPID}
	var storeName string
	if o.keysFile != "" {
		raw, err := os.ReadFile(o.keysFile)
		if err != nil {
			return err
		}
		if err := json.Unmarshal(raw, &target.Tenants); err != nil || len(target.Tenants) == 0 {
			return usageError("--keys-file %s: want a non-empty JSON list of {\"tenant\": ..., \"token\": ...} (%v)", o.keysFile, err)
		}
	} else {
		if o.tenants < 1 {
			return usageError("--tenants must be ≥ 1")
		}
		if target.Tenants, storeName, err = benchTenants(ctx, appOptions{dataDir: tmp + "/data", store: o.store}, o.tenants); err != nil {
			return err
		}
	}

	if len(o.urls) == 0 {
		fmt.Fprintf(progress, "starting %d capd node(s) with %d tenants on %s\n", o.nodes, len(target.Tenants), storeName)
		for i := 0; i < o.nodes; i++ {
			// Every node gets its own data directory for local files;
			// on PostgreSQL the store comes through CAPD_STORE rather
			// than --store, so its password stays out of the process
			// list.
			data := tmp + "/data"
			if o.store != "" {
				data = fmt.Sprintf("%s/node-%d", tmp, i)
				if err := os.MkdirAll(data, 0o700); err != nil {
					return err
				}
			}
			args := append([]string{"serve", "--data", data, "--addr", "127.0.0.1:0",
				"--conformance-interval", "0", "--rate-limit", "0", "--tenant-rate-limit", "0", "--failed-auth-rate", "0",
				"--max-open-tenants", fmt.Sprint(max(o.maxOpenTenants, 1))}, o.serverFlags...)
			logPath := fmt.Sprintf("%s/node-%d.log", tmp, i)
			url, pid, stop, err := startChild(ctx, []string{"CAPD_STORE=" + o.store}, logPath, `http://127\.0\.0\.1:\d+/mcp`, args...)
			if err != nil {
				return fmt.Errorf("start capd node %d: %w", i+1, err)
			}
			defer stop()
			target.Nodes = append(target.Nodes, bench.Node{URL: url, PID: pid})
		}
	} else {
		for i, u := range o.urls {
			n := bench.Node{URL: u}
			if i < len(o.serverPIDs) {
				n.PID = o.serverPIDs[i]
			}
			target.Nodes = append(target.Nodes, n)
		}
	}
	fmt.Fprintf(progress, "preparing %d tenants through %s\n", len(target.Tenants), target.Nodes[0].URL)
	if err := bench.Prepare(ctx, target, o.clients); err != nil {
		return err
	}

	var floor *bench.Target
	if !o.noFloors {
		url, pid, stop, err := startChild(ctx, nil, tmp+"/floor-server.log", `http://127\.0\.0\.1:\d+/mcp`, "bench", "floor-server")
		if err != nil {
			return fmt.Errorf("start the floor server: %w", err)
		}
		defer stop()
		floor = bench.NoopTarget(url, pid)
		if err := os.MkdirAll(tmp+"/floor", 0o755); err != nil {
			return err
		}
	}

	plan := bench.Plan{
		Load: bench.Load{Clients: o.clients, Duration: o.duration, Warmup: o.warmup, Rate: o.rate, Zipf: o.zipf,
			Mix: mix, Seed: o.seed},
		Singles: singles, Runs: o.runs, Floors: !o.noFloors, SQLiteDir: tmp + "/floor", Store: storeName,
	}
	rep, err := bench.Execute(ctx, plan, target, floor, progress)
	if err != nil {
		return err
	}
	js, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	if o.jsonOut != "" {
		if err := os.WriteFile(o.jsonOut, append(js, '\n'), 0o644); err != nil {
			return err
		}
	}
	if o.format == "json" {
		_, err = fmt.Fprintf(stdout, "%s\n", js)
		return err
	}
	return rep.WriteText(stdout)
}

// checkBenchTopology refuses combinations of --url, --store, --nodes,
// --keys-file, --server-pid and --pg-pid that cannot mean what they say,
// before anything starts.
func checkBenchTopology(o benchOptions) error {
	if o.store != "" {
		kind, _, err := parseStore(o.store, "")
		if err != nil {
			return err
		}
		if kind != "postgres" {
			return usageError("--store %q: bench takes a postgres:// URL; without --store it runs capd on a temporary SQLite directory", redactStore(o.store))
		}
	}
	if o.nodes < 1 {
		return usageError("--nodes %d: want at least 1", o.nodes)
	}
	if o.pgPID < 0 {
		return usageError("--pg-pid %d: want a process id", o.pgPID)
	}
	if o.pgPID > 0 {
		if _, err := os.Stat(fmt.Sprintf("/proc/%d/stat", o.pgPID)); err != nil {
			return usageError("--pg-pid %d: no such process on this machine (the postmaster's id is the first line of postmaster.pid in the server's data directory)", o.pgPID)
		}
	}
	if len(o.urls) == 0 {
		switch {
		case o.keysFile != "":
			return usageError("--keys-file goes with --url: without --url bench creates its own tenants")
		case len(o.serverPIDs) > 0:
			return usageError("--server-pid goes with --url: bench knows the nodes it starts")
		case o.nodes > 1 && o.store == "":
			return usageError("--nodes %d needs --store postgres://...: a SQLite data directory is served by one process", o.nodes)
		}
		return nil
	}
	switch {
	case o.nodesSet && o.nodes != len(o.urls):
		return usageError("--nodes %d with %d --url: with --url, the nodes are the URLs given", o.nodes, len(o.urls))
	case len(o.serverPIDs) > 0 && len(o.serverPIDs) != len(o.urls):
		return usageError("%d --server-pid for %d --url: give one per --url, in the same order, or none", len(o.serverPIDs), len(o.urls))
	case o.keysFile == "" && o.store == "":
		return usageError("--url needs --keys-file (a JSON list of {tenant, token}, one key per tenant) or --store (the store the nodes share, where bench creates its tenants)")
	case o.keysFile != "" && o.store != "":
		return usageError("--keys-file and --store both name the tenants: give one")
	}
	for _, u := range o.urls {
		if !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
			return usageError("--url %q: want an http:// or https:// MCP endpoint, e.g. http://127.0.0.1:8080/mcp", u)
		}
	}
	return nil
}

// benchTenantSlug matches the tenants benchTenants creates.
var benchTenantSlug = regexp.MustCompile(`^bench-\d{5}$`)

// benchTenants creates n tenants with all-scope keys in the store o
// names and returns them with the store's name for the report. A store
// that already holds bench tenants is refused rather than reused: their
// keys are gone, and tasks left by an earlier run would change what this
// one measures.
func benchTenants(ctx context.Context, o appOptions, n int) ([]*bench.Tenant, string, error) {
	st, err := openStorage(ctx, o)
	if err != nil {
		return nil, "", err
	}
	defer st.Close()
	existing, err := st.Control().ListTenants(ctx)
	if err != nil {
		return nil, "", err
	}
	var old []string
	for _, t := range existing {
		if benchTenantSlug.MatchString(t.Slug) {
			old = append(old, t.Slug)
		}
	}
	if len(old) > 0 {
		return nil, "", usageError("--store %s already has %d bench tenants (%s, …) from an earlier run; give bench an empty database, e.g. createdb capd_bench_2",
			st.Describe(), len(old), old[0])
	}
	out := make([]*bench.Tenant, 0, n)
	for i := 0; i < n; i++ {
		slug := fmt.Sprintf("bench-%05d", i)
		if err := st.Control().CreateTenant(ctx, &capability.Tenant{Slug: slug}); err != nil {
			return nil, "", err
		}
		key, _, err := st.Control().CreateKey(ctx, slug, capability.AllScopes, time.Time{})
		if err != nil {
			return nil, "", err
		}
		out = append(out, &bench.Tenant{Slug: slug, Key: key})
	}
	return out, st.Describe(), nil
}

// startChild runs this binary with args and env added to the
// environment, and waits for a line of its output matching urlPattern;
// stop ends it with SIGINT (then kills it). The child's log (stderr) goes
// to the file logPath: a capd node logs a line per call, and a file takes
// them without the load tool spending CPU on them, while the node pays for
// its log as it would in production.
func startChild(ctx context.Context, env []string, logPath, urlPattern string, args ...string) (url string, pid int, stop func(), err error) {
	exe, err := os.Executable()
	if err != nil {
		return "", 0, nil, err
	}
	cmd := exec.Command(exe, args...)
	// No CAPD_ variable reaches a child but env's: it must serve the store
	// and settings bench chose (--server-flag), not whatever the caller's
	// environment or config file (CAPD_CONFIG) names.
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, envPrefix) {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, env...)
	logFile, err := os.Create(logPath)
	if err != nil {
		return "", 0, nil, err
	}
	defer logFile.Close() // the child has its own descriptor
	cmd.Stderr = logFile
	// The end of the child's log says why a child would not start (a
	// wrong password, a refused connection).
	tail := func() string { return logTail(logPath, 4<<10) }
	out, err := cmd.StdoutPipe()
	if err != nil {
		return "", 0, nil, err
	}
	if err := cmd.Start(); err != nil {
		return "", 0, nil, err
	}
	stop = func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	}
	re := regexp.MustCompile(urlPattern)
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		sent := false
		for sc.Scan() {
			if m := re.FindString(sc.Text()); m != "" && !sent {
				found <- m
				sent = true
			}
		}
		if !sent {
			close(found)
		}
	}()
	select {
	case url, ok := <-found:
		if !ok {
			stop()
			return "", 0, nil, fmt.Errorf("%s %s exited before printing its URL: %s", exe, strings.Join(args, " "), tail())
		}
		return url, cmd.Process.Pid, stop, nil
	case <-time.After(60 * time.Second):
		stop()
		return "", 0, nil, fmt.Errorf("%s %s printed no URL within 60 s: %s", exe, strings.Join(args, " "), tail())
	case <-ctx.Done():
		stop()
		return "", 0, nil, ctx.Err()
	}
}

// logTail returns the last max bytes of the file at path.
func logTail(path string, max int64) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Size() > max {
		_, _ = f.Seek(-max, io.SeekEnd)
	}
	b, _ := io.ReadAll(f)
	return strings.TrimSpace(string(b))
}
