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
	"github.com/capd-dev/capd/internal/store/sqlite"
)

type benchOptions struct {
	url, keysFile    string
	serverPID        int
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
With --url it drives a running capd: --keys-file lists one key per tenant as
[{"tenant": "...", "token": "..."}] (the demo's demo-keys.json has that
shape), and it writes a project and tasks into each of those tenants.`,
		Example: `  capd bench                                   # 16 clients, 50 tenants, 10 s per run, 3 rounds
  capd bench --rate 2000 --zipf 1.1            # fixed arrival rate, Zipf-skewed tenants
  capd bench --json bench.json --format json
  capd bench --url http://127.0.0.1:8080/mcp --keys-file capd-data/demo-keys.json --server-pid 1234`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runBench(cmd.Context(), o, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.url, "url", "", "MCP endpoint of a running capd (default: start one)")
	f.StringVar(&o.keysFile, "keys-file", "", "with --url: JSON list of {tenant, token}, one key per tenant")
	f.IntVar(&o.serverPID, "server-pid", 0, "with --url: the server's process id, for its CPU and memory")
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

	target := &bench.Target{URL: o.url, PID: o.serverPID}
	if o.url == "" {
		if o.tenants < 1 {
			return usageError("--tenants must be ≥ 1")
		}
		data := tmp + "/data"
		if target.Tenants, err = benchTenants(ctx, data, o.tenants); err != nil {
			return err
		}
		fmt.Fprintf(progress, "starting capd with %d tenants in %s\n", o.tenants, data)
		args := append([]string{"serve", "--data", data, "--addr", "127.0.0.1:0",
			"--conformance-interval", "0", "--rate-limit", "0", "--tenant-rate-limit", "0", "--failed-auth-rate", "0",
			"--max-open-tenants", fmt.Sprint(max(o.maxOpenTenants, 1))}, o.serverFlags...)
		url, pid, stop, err := startChild(ctx, `http://127\.0\.0\.1:\d+/mcp`, args...)
		if err != nil {
			return fmt.Errorf("start capd: %w", err)
		}
		defer stop()
		target.URL, target.PID = url, pid
	} else {
		if o.keysFile == "" {
			return usageError("--url needs --keys-file: a JSON list of {tenant, token}, one key per tenant")
		}
		raw, err := os.ReadFile(o.keysFile)
		if err != nil {
			return err
		}
		if err := json.Unmarshal(raw, &target.Tenants); err != nil || len(target.Tenants) == 0 {
			return usageError("--keys-file %s: want a non-empty JSON list of {\"tenant\": ..., \"token\": ...} (%v)", o.keysFile, err)
		}
	}
	fmt.Fprintf(progress, "preparing %d tenants at %s\n", len(target.Tenants), target.URL)
	if err := bench.Prepare(ctx, target, o.clients); err != nil {
		return err
	}

	var floor *bench.Target
	if !o.noFloors {
		url, pid, stop, err := startChild(ctx, `http://127\.0\.0\.1:\d+/mcp`, "bench", "floor-server")
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
		Singles: singles, Runs: o.runs, Floors: !o.noFloors, SQLiteDir: tmp + "/floor",
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

// benchTenants creates n tenants with all-scope keys in a new data
// directory.
func benchTenants(ctx context.Context, data string, n int) ([]*bench.Tenant, error) {
	db, err := sqlite.Open(ctx, sqlite.Options{Dir: data})
	if err != nil {
		return nil, err
	}
	defer db.Close()
	out := make([]*bench.Tenant, 0, n)
	for i := 0; i < n; i++ {
		slug := fmt.Sprintf("bench-%05d", i)
		if err := db.Control().CreateTenant(ctx, &capability.Tenant{Slug: slug}); err != nil {
			return nil, err
		}
		key, _, err := db.Control().CreateKey(ctx, slug, capability.AllScopes, time.Time{})
		if err != nil {
			return nil, err
		}
		out = append(out, &bench.Tenant{Slug: slug, Key: key})
	}
	return out, nil
}

// startChild runs this binary with args and waits for a line of its
// output matching urlPattern; stop ends it with SIGINT (then kills it).
func startChild(ctx context.Context, urlPattern string, args ...string) (url string, pid int, stop func(), err error) {
	exe, err := os.Executable()
	if err != nil {
		return "", 0, nil, err
	}
	cmd := exec.Command(exe, args...)
	cmd.Env = append(os.Environ(), "CAPD_API_KEY=")
	cmd.Stderr = io.Discard
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
			return "", 0, nil, fmt.Errorf("%s %s exited before printing its URL", exe, strings.Join(args, " "))
		}
		return url, cmd.Process.Pid, stop, nil
	case <-time.After(60 * time.Second):
		stop()
		return "", 0, nil, fmt.Errorf("%s %s printed no URL within 60 s", exe, strings.Join(args, " "))
	case <-ctx.Done():
		stop()
		return "", 0, nil, ctx.Err()
	}
}
