package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/capd-dev/capd/capabilities"
	"github.com/capd-dev/capd/conformance"
	"github.com/capd-dev/capd/internal/capability"
	"github.com/capd-dev/capd/internal/catalog"
	"github.com/capd-dev/capd/internal/demo"
	"github.com/capd-dev/capd/internal/httpapi"
	"github.com/capd-dev/capd/internal/invoke"
	"github.com/capd-dev/capd/internal/mcpserver"
	"github.com/capd-dev/capd/internal/metrics"
	"github.com/capd-dev/capd/schemas"
)

type serveOptions struct {
	appOptions
	// toolNames is how /mcp spells tool names unless a request's URL says
	// otherwise (?tool_names=).
	toolNames      mcpserver.ToolNames
	addr           string
	demo           bool
	allowedOrigins []string
	maxBody        int64
	limits         invoke.Limits
	keyOverrides   []string // PREFIX=RATE
	failedAuthRate float64  // failed authentications per second per client address
	catalogAuth    bool     // catalog pages and the read API require a key
	catalogDir     string   // serve catalog templates and static files from disk (development)
	// conformanceInterval is how often the conformance suite runs in the
	// background (first at start); 0 disables it.
	conformanceInterval time.Duration
	// readHeaderTimeout bounds reading a request's headers; 0 means 10 s.
	readHeaderTimeout time.Duration
	// readTimeout bounds reading a whole request and writeTimeout writing
	// an answer other than an SSE stream; 0 means 2 minutes.
	readTimeout, writeTimeout time.Duration
	// pprofAddr, when set, serves net/http/pprof on its own listener.
	pprofAddr string
	// gcPercent is the Go collector's GOGC; it applies unless the GOGC
	// environment variable is set and the flag is not.
	gcPercent    int
	gcPercentSet bool
	// metricsOff turns /metrics off (--metrics=false); metricsAddr serves
	// it on its own listener instead of the API's.
	metricsOff  bool
	metricsAddr string
	// conformanceMetricsTTL is how long /metrics reuses the conformance
	// figures it read from the store; the command sets
	// metrics.DefaultConformanceTTL, tests leave 0 (read at every scrape).
	conformanceMetricsTTL time.Duration
}

func newServeCmd(loc func() location) *cobra.Command {
	o := serveOptions{conformanceMetricsTTL: metrics.DefaultConformanceTTL}
	metricsOn := true
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve MCP over streamable HTTP at /mcp",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.dataDir, o.store = loc().dir, loc().store
			o.gcPercentSet = cmd.Flags().Changed("gc-percent")
			o.metricsOff = !metricsOn
			if o.metricsOff && o.metricsAddr != "" {
				return usageError("--metrics-addr %s serves /metrics, which --metrics=false turns off: give one of them", o.metricsAddr)
			}
			return serve(cmd.Context(), o, cmd.OutOrStdout(), nil)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.addr, "addr", "127.0.0.1:8080", "listen address (loopback by default)")
	f.BoolVar(&o.demo, "demo", false, "create demo tenants with sample data (once) and print their API keys")
	f.StringSliceVar(&o.allowedOrigins, "allowed-origins", nil, "browser origins allowed besides loopback, e.g. https://app.example.com")
	f.Int64Var(&o.maxBody, "max-body", httpapi.DefaultMaxBody, "request body limit in bytes")
	f.Float64Var(&o.limits.KeyRate, "rate-limit", 100, "calls per second allowed per API key (0: unlimited)")
	f.IntVar(&o.limits.KeyBurst, "rate-burst", 200, "calls an API key may make at once above its rate")
	f.Float64Var(&o.limits.TenantRate, "tenant-rate-limit", 300, "calls per second allowed per tenant, all its keys together (0: unlimited)")
	f.IntVar(&o.limits.TenantBurst, "tenant-rate-burst", 600, "calls a tenant may make at once above its rate")
	f.StringArrayVar(&o.keyOverrides, "key-rate-limit", nil, "another rate for one key, PREFIX=CALLS_PER_SECOND (repeatable)")
	f.Float64Var(&o.failedAuthRate, "failed-auth-rate", 1, "failed authentications per second one client address may make before 429 (burst 10; 0: unlimited)")
	f.BoolVar(&o.catalogAuth, "catalog-auth", false, "require an API key for the catalog pages and the read API")
	f.StringVar(&o.catalogDir, "catalog-dir", "", "serve the catalog's templates and static files from this directory (for editing them)")
	f.IntVar(&o.maxOpenTenants, "max-open-tenants", 1000, "tenant databases kept open at once (LRU)")
	f.IntVar(&o.tenantMaxPages, "tenant-max-pages", 0, "cap each tenant database at this many 4 KiB pages (SQLite max_page_count); a write past it fails with storage_full and writes nothing (0: no cap)")
	f.DurationVar(&o.readHeaderTimeout, "read-header-timeout", 10*time.Second, "time a client has to send a request's headers (slow-loris bound)")
	f.DurationVar(&o.readTimeout, "read-timeout", 2*time.Minute, "time a client has to send a whole request, body included")
	f.DurationVar(&o.writeTimeout, "write-timeout", httpapi.DefaultWriteTimeout, "time an answer may take to write to a slow reader (SSE streams are exempt)")
	f.IntVar(&o.gcPercent, "gc-percent", defaultGCPercent, "the Go garbage collector's target (GOGC); the GOGC environment variable applies instead when this flag is not given")
	f.StringVar(&o.pprofAddr, "pprof", "", "serve Go's profiler (net/http/pprof) on this address, e.g. 127.0.0.1:6060; keep it on loopback")
	toolNamesFlag(f, &o.toolNames)
	f.DurationVar(&o.conformanceInterval, "conformance-interval", 6*time.Hour, "run the conformance suite at start and then this often (0 disables)")
	f.BoolVar(&metricsOn, "metrics", true, "serve Prometheus metrics at /metrics (--metrics=false: not at all)")
	f.StringVar(&o.metricsAddr, "metrics-addr", "", "serve /metrics on this address instead of --addr, e.g. 127.0.0.1:9090 or an internal interface; without it /metrics is on --addr, public unless --catalog-auth")
	addLogFlags(f, &o.logging)
	return cmd
}

// defaultGCPercent lets the heap grow to five times what is live before
// the collector runs, instead of Go's default of twice. capd's live heap is
// small (the registry, open handles; SQLite's memory is outside it) while
// every call allocates tens of KB that die at once, so at GOGC=100 the
// collector ran constantly: measured with capd bench (16 clients, 50
// tenants, 2 cores), GOGC=400 served get_task 34-43% and create_task 19-43%
// more calls/s, for about 28 MiB more RSS.
const defaultGCPercent = 400

// serve runs the HTTP server until ctx ends. ready, if set, is told the
// bound address once the server accepts connections.
func serve(ctx context.Context, o serveOptions, out io.Writer, ready func(net.Addr)) error {
	if o.gcPercent != 0 && (o.gcPercentSet || os.Getenv("GOGC") == "") {
		debug.SetGCPercent(o.gcPercent)
	}
	a, err := openApp(ctx, o.appOptions)
	if err != nil {
		return err
	}
	defer a.Close()

	var keys []demoKey
	if o.demo {
		if _, err := demo.Seed(ctx, a.db.Control(), a.db.Tenants(), time.Now()); err != nil {
			return err
		}
		if keys, err = demoKeys(ctx, a.db.Control(), o.dataDir); err != nil {
			return err
		}
	}

	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w (choose another with --addr)", o.addr, err)
	}
	if o.pprofAddr != "" {
		stop, err := servePprof(o.pprofAddr, a.logger)
		if err != nil {
			ln.Close()
			return err
		}
		defer stop()
	}
	var m *metrics.Metrics
	if !o.metricsOff {
		m = a.newMetrics(o.conformanceMetricsTTL)
		a.inv.Observer = m
	}
	if m != nil && o.metricsAddr != "" {
		bound, stop, err := serveMetrics(o.metricsAddr, m.Handler(), a.logger)
		if err != nil {
			ln.Close()
			return err
		}
		defer stop()
		o.metricsAddr = bound.String()
	}
	guard := &httpapi.Guard{Keys: a.db.Control(), AllowedOrigins: o.allowedOrigins, MaxBody: o.maxBody,
		BodyLimits: a.reg.BodyLimits(), FailedAuthRate: o.failedAuthRate, FailedAuthBurst: 10,
		WriteTimeout: o.writeTimeout, Logger: a.logger}
	if m != nil {
		guard.Throttled = m.FailedAuthThrottled
	}
	limits := o.limits
	for _, kv := range o.keyOverrides {
		prefix, n, ok := strings.Cut(kv, "=")
		r, err := strconv.ParseFloat(n, 64)
		if !ok || err != nil || r < 0 {
			return usageError("--key-rate-limit %q: want PREFIX=CALLS_PER_SECOND", kv)
		}
		if limits.KeyOverrides == nil {
			limits.KeyOverrides = map[string]float64{}
		}
		limits.KeyOverrides[strings.TrimPrefix(prefix, "capd_")] = r
	}
	a.inv.Limiter = invoke.NewLimiter(limits)
	api := &httpapi.API{Registry: a.reg, Invoker: a.inv, Control: a.db.Control(), Sets: a.sets, Guard: guard, CatalogAuth: o.catalogAuth, Logger: a.logger}
	mux := http.NewServeMux()
	// One server per tool-name spelling; the URL picks (?tool_names=),
	// so one capd serves clients that need either.
	mcpServers := map[mcpserver.ToolNames]http.Handler{}
	for _, names := range []mcpserver.ToolNames{mcpserver.DottedNames, mcpserver.UnderscoreNames} {
		mcpServers[names] = mcpserver.New(a.inv, version, names).HTTPHandler()
	}
	toolNames := func(w http.ResponseWriter, r *http.Request) (mcpserver.ToolNames, bool) {
		names, err := mcpserver.RequestToolNames(r, o.toolNames)
		if err != nil {
			httpapi.WriteError(w, http.StatusBadRequest, "bad_request", err.Error())
			return 0, false
		}
		return names, true
	}
	mux.Handle("/mcp", guard.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if names, ok := toolNames(w, r); ok {
			mcpServers[names].ServeHTTP(w, r)
		}
	})))
	mux.Handle("/mcp/sets/{name}", guard.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		names, ok := toolNames(w, r)
		if !ok {
			return
		}
		p, _ := capability.PrincipalFrom(r.Context())
		set, err := a.sets.Find(r.Context(), p.Tenant, r.PathValue("name"))
		if err != nil {
			if capability.ErrorCode(err) == capability.CodeNotFound {
				httpapi.WriteError(w, http.StatusNotFound, "not_found", capability.AsError(err).Message)
				return
			}
			a.logger.Error("find set", "err", err)
			httpapi.WriteError(w, http.StatusInternalServerError, "internal_error", "the server could not load the set; retry later")
			return
		}
		a.setHub.Handler(set, names).ServeHTTP(w, r)
	})))
	mux.Handle("/api/", api.Handler())
	assets := catalog.Assets
	if o.catalogDir != "" {
		assets = os.DirFS(o.catalogDir)
	}
	pages, err := catalog.New(a.reg, a.db.Control(), a.sets, assets, a.logger)
	if err != nil {
		return err
	}
	if o.catalogAuth {
		pages = guard.WrapBrowser(pages)
	}
	mux.Handle("/", pages)
	if m != nil && o.metricsAddr == "" {
		// Beside the API, /metrics shows what the catalog shows (no tenant
		// data; provider instances name tenants, as /providers does), so
		// it is public exactly when the catalog is.
		var h http.Handler = m.Handler()
		if o.catalogAuth {
			h = guard.Wrap(h)
		}
		mux.Handle("GET /metrics", h)
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"status":"ok","version":%q,"capabilities":%d}`+"\n", version, len(a.reg.Versions()))
	})
	// Slow clients: headers must arrive within --read-header-timeout
	// (10 s) and stay under 64 KiB; a whole request, a 5 MiB artifact
	// upload included, within --read-timeout (2 min: about 60 KB/s for the
	// largest body). There is no WriteTimeout: it would cut MCP's long-lived SSE
	// streams (the standalone GET stream, streamed POST answers); the guard
	// sets a write deadline on every other request instead.
	srv := &http.Server{Handler: httpapi.WithRequestID(mux),
		ReadHeaderTimeout: cmp.Or(o.readHeaderTimeout, 10*time.Second),
		ReadTimeout:       cmp.Or(o.readTimeout, 2*time.Minute),
		MaxHeaderBytes:    64 << 10,
		IdleTimeout:       2 * time.Minute,
	}

	printBanner(out, o, a.db.Describe(), ln.Addr(), len(a.reg.Versions()), keys)
	if ready != nil {
		ready(ln.Addr())
	}
	var background sync.WaitGroup
	bgCtx, stopBackground := context.WithCancel(ctx)
	defer func() { stopBackground(); background.Wait() }()
	background.Add(1)
	go func() {
		defer background.Done()
		a.watchSetChanges(bgCtx)
	}()
	if o.conformanceInterval > 0 {
		suite, err := conformance.Load(capabilities.FS, schemas.FS, a.reg)
		if err != nil {
			return err
		}
		background.Add(1)
		go func() {
			defer background.Done()
			a.conformanceLoop(bgCtx, suite, o.conformanceInterval)
		}()
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func printBanner(out io.Writer, o serveOptions, store string, addr net.Addr, nCaps int, keys []demoKey) {
	url := "http://" + addr.String() + "/mcp"
	fmt.Fprintf(out, "capd %s: %d capability versions\n", version, nCaps)
	fmt.Fprintf(out, "  MCP (streamable HTTP)  %s\n", url)
	fmt.Fprintf(out, "  catalog                http://%s/\n", addr)
	fmt.Fprintf(out, "  health                 http://%s/healthz\n", addr)
	switch {
	case o.metricsOff:
	case o.metricsAddr != "":
		fmt.Fprintf(out, "  metrics                http://%s/metrics\n", o.metricsAddr)
	default:
		fmt.Fprintf(out, "  metrics                http://%s/metrics\n", addr)
	}
	if strings.HasPrefix(store, "sqlite ") {
		fmt.Fprintf(out, "  data                   %s\n", o.dataDir)
	} else {
		fmt.Fprintf(out, "  store                  %s\n", store)
	}
	if host, _, _ := net.SplitHostPort(addr.String()); !httpapi.IsLoopbackHost(host) {
		fmt.Fprintf(out, "  warning: listening beyond loopback (%s); only API keys protect it\n", host)
	}
	if len(keys) == 0 {
		fmt.Fprintf(out, "\nNo demo data. To start using capd:\n")
		where := "--data " + o.dataDir
		if !strings.HasPrefix(store, "sqlite ") {
			where = "--store <the same URL>"
		}
		fmt.Fprintf(out, "  capd tenants create my-org %s\n", where)
		fmt.Fprintf(out, "  capd keys create --tenant my-org %s\n", where)
		fmt.Fprintf(out, "then send the key as Authorization: Bearer <key> to %s\n", url)
		fmt.Fprintf(out, "(or run with --demo for three sample tenants)\n")
		return
	}
	fmt.Fprintf(out, "\nDemo API keys (all scopes; stored in %s):\n", demoKeysFile(o.dataDir))
	for _, k := range keys {
		fmt.Fprintf(out, "  %-24s %s\n", k.Tenant, k.Token)
	}
	first := keys[0]
	fmt.Fprintf(out, "\nConnect Claude Code:\n  claude mcp add --transport http capd %s --header \"Authorization: Bearer %s\"\n", url, first.Token)
	fmt.Fprintf(out, "\nOr paste into Cursor's mcp.json (Claude Desktop, VS Code and others: see the README):\n")
	fmt.Fprintf(out, "  {\"mcpServers\": {\"capd\": {\"type\": \"http\", \"url\": %q, \"headers\": {\"Authorization\": \"Bearer %s\"}}}}\n", url, first.Token)
	fmt.Fprintf(out, "\nTry it:\n  curl -s %s -H 'Authorization: Bearer %s' -H 'Content-Type: application/json' \\\n", url, first.Token)
	fmt.Fprintf(out, "    -H 'Accept: application/json, text/event-stream' -d '{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\"}'\n")
	fmt.Fprintln(out, strings.Repeat("-", 60))
}

// conformanceLoop runs every case against every tenant now and then every
// interval, recording the results, so the catalog always has recent runs.
func (a *app) conformanceLoop(ctx context.Context, suite *conformance.Suite, interval time.Duration) {
	started := time.Now()
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		a.scheduledConformance(ctx, suite, started, interval)
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// scheduledConformance runs the suite unless another capd process sharing
// the store is running it now, or has recorded a run that is both newer
// than this process and within the last half interval: a node that starts,
// perhaps with a new capd, always sees the contracts checked once by a run
// newer than itself, whatever ran before it. Every node schedules the
// suite, so it keeps running while any node is up, and nodes on one store
// take turns instead of each running it: the lock (a PostgreSQL advisory
// lock, or an flock in the SQLite data directory) keeps two runs apart,
// and the recorded runs tell a node its turn was already taken.
func (a *app) scheduledConformance(ctx context.Context, suite *conformance.Suite, nodeStarted time.Time, interval time.Duration) {
	unlock, ok, err := a.db.TryLock(ctx, "conformance")
	if err != nil {
		if ctx.Err() == nil {
			a.logger.Error("conformance: take the schedule lock", "err", err)
		}
		return
	}
	if !ok {
		a.logger.Info("conformance: another capd process is running the suite; skipping this turn")
		return
	}
	defer unlock()
	latest, err := a.db.Control().ListConformance(ctx, capability.ConformanceFilter{Limit: 1})
	if err != nil {
		if ctx.Err() == nil {
			a.logger.Error("conformance: read the latest run", "err", err)
		}
		return
	}
	if len(latest) == 1 {
		since := nodeStarted
		if half := time.Now().Add(-interval / 2); half.After(since) {
			since = half
		}
		if latest[0].StartedAt.After(since) {
			a.logger.Info("conformance: a recent run is recorded; skipping this turn", "run", latest[0].RunID)
			return
		}
	}
	a.runConformanceOnce(ctx, suite)
}

func (a *app) runConformanceOnce(ctx context.Context, suite *conformance.Suite) {
	ts, err := a.db.Control().ListTenants(ctx)
	if err != nil || len(ts) == 0 {
		if err != nil && ctx.Err() == nil {
			a.logger.Error("conformance: list tenants", "err", err)
		}
		return
	}
	slugs := make([]string, len(ts))
	for i, t := range ts {
		slugs[i] = t.Slug
	}
	started := time.Now()
	runID := conformance.NewRunID(started)
	results, err := (&conformance.Runner{Suite: suite}).RunLocal(ctx, runID, a.db.Scratch(), slugs, suite.Select(conformance.Filter{}))
	if ctx.Err() != nil {
		return // shutting down: a partial run is not recorded
	}
	if err != nil {
		a.logger.Error("conformance run", "run", runID, "err", err)
	}
	if err := a.db.Control().RecordConformance(ctx, results); err != nil {
		a.logger.Error("conformance: record", "run", runID, "err", err)
		return
	}
	s := conformance.Summarize(results)
	level := slog.LevelInfo
	if !s.OK() {
		level = slog.LevelWarn
	}
	a.logger.Log(ctx, level, "conformance run", "run", runID, "tenants", len(slugs), "passed", s.Passed, "failed", s.Failed, "errored", s.Errored, "took", time.Since(started).Round(time.Millisecond))
}
