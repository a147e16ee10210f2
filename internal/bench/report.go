package bench

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"text/tabwriter"
	"time"
)

// Plan is a whole benchmark: which scenarios, how often, with which load.
type Plan struct {
	// Load is the shape of every scenario; its Mix is the mixed scenario.
	Load Load
	// Singles are operations also run alone, each against the floor.
	Singles []string
	// Runs is how many times each scenario runs; reports give medians.
	Runs int
	// Floors turns on the no-op and SQLite floors.
	Floors bool
	// SQLiteDir holds the SQLite floor's database files.
	SQLiteDir string
	// Store names where capd's data lives, for the report; never a
	// password.
	Store string
}

// Report is everything one benchmark measured.
type Report struct {
	Started time.Time `json:"started"`
	Machine Machine   `json:"machine"`
	Clients int       `json:"clients"`
	Tenants int       `json:"tenants"`
	Mode    string    `json:"mode"`
	Dist    string    `json:"distribution"`
	Rate    float64   `json:"rate,omitempty"`
	Seconds float64   `json:"seconds_per_run"`
	Mix     string    `json:"mix"`
	// Store is where the capd nodes keep their data, e.g. "sqlite DIR"
	// or "postgres USER@HOST:PORT/DB"; empty when bench drove servers it
	// did not start and was not told.
	Store string `json:"store,omitempty"`
	// Nodes is how many capd processes served the load; server figures
	// of the capd rows are sums over them.
	Nodes    int        `json:"nodes"`
	Runs     []*Result  `json:"runs"`
	Summary  []*Summary `json:"summary"`
	Ratios   []Ratio    `json:"ratios"`
	Warnings []string   `json:"warnings,omitempty"`
}

// Machine describes where the benchmark ran.
type Machine struct {
	CPUs      int    `json:"cpus"`
	GoVersion string `json:"go"`
	OS        string `json:"os"`
	Arch      string `json:"arch"`
	Host      string `json:"host"`
}

// Summary is a scenario's medians over its runs.
type Summary struct {
	Scenario  string  `json:"scenario"`
	Target    string  `json:"target"`
	Runs      int     `json:"runs"`
	CallsPerS float64 `json:"calls_per_s"`
	LatencyMs Latency `json:"latency_ms"`
	// Errors is the total over all runs.
	Errors int64 `json:"errors"`
	// ServerCPU, ServerRSS and ServerPeak are the target's processes',
	// summed over its nodes.
	ServerCPU  float64 `json:"server_cpu_cores,omitempty"`
	ServerRSS  float64 `json:"server_rss_mib,omitempty"`
	ServerPeak float64 `json:"server_peak_rss_mib,omitempty"`
	// PostgresCPU is the PostgreSQL server's CPU (all its processes),
	// when its postmaster was given.
	PostgresCPU float64 `json:"postgres_cpu_cores,omitempty"`
	// NodeCallsPerS is, for a target of several nodes, each node's
	// median calls/s in the target's order.
	NodeCallsPerS []float64 `json:"node_calls_per_s,omitempty"`
	runsResults   []*Result
}

// Ratio is one headline figure: a capd figure over its floor, or a
// latency, with the target when there is one.
type Ratio struct {
	Name   string  `json:"name"`
	Value  float64 `json:"value"`
	Target string  `json:"target,omitempty"`
	Met    *bool   `json:"met,omitempty"`
}

// Execute runs plan: each round runs the floors, every single operation
// and the mix once, so every figure has a floor measured minutes apart at
// most; the report gives each scenario's median over the rounds.
func Execute(ctx context.Context, plan Plan, capd, floor *Target, progress io.Writer) (*Report, error) {
	host, _ := os.Hostname()
	l := plan.Load
	rep := &Report{Started: time.Now().UTC(), Machine: Machine{CPUs: runtime.NumCPU(), GoVersion: runtime.Version(),
		OS: runtime.GOOS, Arch: runtime.GOARCH, Host: host},
		Clients: l.Clients, Tenants: len(capd.Tenants), Mode: l.Mode(), Dist: l.Dist(), Rate: l.Rate,
		Seconds: l.Duration.Seconds(), Mix: MixString(l.Mix), Store: plan.Store, Nodes: len(capd.Nodes)}
	runs := max(plan.Runs, 1)
	for round := 1; round <= runs; round++ {
		step := func(r *Result, err error) error {
			if err != nil {
				return err
			}
			rep.Runs = append(rep.Runs, r)
			fmt.Fprintf(progress, "round %d/%d  %-28s %9.0f calls/s  p50 %6.2f ms  p99 %6.2f ms  errors %s\n",
				round, runs, r.Target+" "+r.Scenario, r.CallsPerS, r.LatencyMs.P50, r.LatencyMs.P99, errorSummary(r.Errors))
			return nil
		}
		if plan.Floors && floor != nil {
			r, err := Run(ctx, floor, NoopLoad(l))
			if r != nil {
				r.Scenario, r.Target = NoopTool, "floor-mcp"
			}
			if err := step(r, err); err != nil {
				return nil, fmt.Errorf("no-op floor: %w", err)
			}
			if err := step(SQLiteFloor(ctx, plan.SQLiteDir, len(capd.Tenants), l)); err != nil {
				return nil, fmt.Errorf("SQLite floor: %w", err)
			}
		}
		scenarios := make([]Load, 0, len(plan.Singles)+1)
		names := make([]string, 0, len(plan.Singles)+1)
		for _, op := range plan.Singles {
			one := l
			one.Mix = []Weighted{{Op: op, Weight: 1}}
			scenarios, names = append(scenarios, one), append(names, strings.TrimPrefix(op, "projects."))
		}
		if len(l.Mix) > 0 {
			scenarios, names = append(scenarios, l), append(names, "mix")
		}
		for i, s := range scenarios {
			r, err := Run(ctx, capd, s)
			if r != nil {
				r.Scenario, r.Target = names[i], "capd"
			}
			if err := step(r, err); err != nil {
				return nil, fmt.Errorf("%s: %w", names[i], err)
			}
		}
	}
	rep.summarise()
	return rep, nil
}

func (rep *Report) summarise() {
	by := map[string]*Summary{}
	for _, r := range rep.Runs {
		key := r.Target + "/" + r.Scenario
		s := by[key]
		if s == nil {
			s = &Summary{Scenario: r.Scenario, Target: r.Target}
			by[key] = s
			rep.Summary = append(rep.Summary, s)
		}
		s.runsResults = append(s.runsResults, r)
	}
	for _, s := range rep.Summary {
		var cps, p50, p90, p99, p999, mx, cpu, rss, peak, pg []float64
		var perNode [][]float64
		for _, r := range s.runsResults {
			if r.Postgres != nil {
				pg = append(pg, r.Postgres.CPUCores)
			}
			if len(r.Nodes) > 1 {
				for len(perNode) < len(r.Nodes) {
					perNode = append(perNode, nil)
				}
				for i, n := range r.Nodes {
					perNode[i] = append(perNode[i], float64(n.Calls)/r.Seconds)
				}
			}
			cps = append(cps, r.CallsPerS)
			p50, p90, p99 = append(p50, r.LatencyMs.P50), append(p90, r.LatencyMs.P90), append(p99, r.LatencyMs.P99)
			p999, mx = append(p999, r.LatencyMs.P999), append(mx, r.LatencyMs.Max)
			s.Errors += r.ErrorCount()
			if r.Server != nil {
				cpu, rss, peak = append(cpu, r.Server.CPUCores), append(rss, r.Server.RSSMiB), append(peak, r.Server.PeakRSSMiB)
			}
		}
		s.Runs = len(s.runsResults)
		s.CallsPerS = round2(median(cps))
		s.LatencyMs = Latency{P50: median(p50), P90: median(p90), P99: median(p99), P999: median(p999), Max: median(mx)}
		s.ServerCPU, s.ServerRSS, s.ServerPeak = round2(median(cpu)), round2(median(rss)), round2(median(peak))
		s.PostgresCPU = round2(median(pg))
		for _, n := range perNode {
			s.NodeCallsPerS = append(s.NodeCallsPerS, round2(median(n)))
		}
		if s.Errors > 0 {
			rep.Warnings = append(rep.Warnings, fmt.Sprintf("%s %s: %d calls failed", s.Target, s.Scenario, s.Errors))
		}
	}

	find := func(target, scenario string) *Summary {
		for _, s := range rep.Summary {
			if s.Target == target && s.Scenario == scenario {
				return s
			}
		}
		return nil
	}
	noop, sqlite := find("floor-mcp", NoopTool), find("floor-sqlite", "sqlite-insert")
	ratio := func(name string, value float64, cmp string, bound float64) {
		r := Ratio{Name: name, Value: round3(value)}
		if cmp != "" {
			met := (cmp == "≥" && value >= bound) || (cmp == "≤" && value <= bound)
			r.Target, r.Met = fmt.Sprintf("%s %g", cmp, bound), &met
		}
		rep.Ratios = append(rep.Ratios, r)
	}
	for _, s := range rep.Summary {
		if s.Target != "capd" {
			continue
		}
		if rep.Rate > 0 {
			// At a fixed arrival rate every scenario makes the same calls
			// per second: what differs is latency.
			if noop != nil && noop.LatencyMs.P99 > 0 {
				ratio(s.Scenario+" p99 ÷ no-op MCP floor p99", s.LatencyMs.P99/noop.LatencyMs.P99, "", 0)
			}
		} else if noop != nil && noop.CallsPerS > 0 {
			cmp, bound := "", 0.0
			switch s.Scenario {
			case "create_task":
				cmp, bound = "≥", 0.60
			case "get_task":
				cmp, bound = "≥", 0.80
			}
			ratio(s.Scenario+" calls/s ÷ no-op MCP floor", s.CallsPerS/noop.CallsPerS, cmp, bound)
		}
		if s.Scenario == "create_task" {
			if sqlite != nil && sqlite.CallsPerS > 0 && rep.Rate == 0 {
				ratio("create_task calls/s ÷ SQLite insert floor", s.CallsPerS/sqlite.CallsPerS, "", 0)
			}
			ratio("create_task p99 latency (ms)", s.LatencyMs.P99, "≤", 15)
		}
	}
}

func round3(x float64) float64 { return float64(int64(x*1000+0.5)) / 1000 }

// WriteText writes the report as tables.
func (rep *Report) WriteText(w io.Writer) error {
	fmt.Fprintf(w, "\ncapd bench: %d clients, %d tenants (%s), ", rep.Clients, rep.Tenants, rep.Dist)
	if rep.Rate > 0 {
		fmt.Fprintf(w, "fixed arrival rate of %g calls/s", rep.Rate)
	} else {
		fmt.Fprint(w, "closed loop")
	}
	fmt.Fprintf(w, ", %gs per run, mix %s\n", rep.Seconds, rep.Mix)
	fmt.Fprintf(w, "machine: %d CPUs, %s, %s/%s\n", rep.Machine.CPUs, rep.Machine.GoVersion, rep.Machine.OS, rep.Machine.Arch)
	store := rep.Store
	if store == "" {
		store = "as the running servers were started"
	}
	fmt.Fprintf(w, "capd: %d node(s), store %s", rep.Nodes, store)
	cpuHead, rssHead := "server CPU", "server RSS MiB"
	if rep.Nodes > 1 {
		// Say it where the figures are read: a capd row's server CPU is
		// every node's together, not one node's.
		fmt.Fprintf(w, "; capd rows' server CPU and RSS are sums over the %d nodes' processes", rep.Nodes)
		cpuHead, rssHead = "server CPU Σ nodes", "server RSS MiB Σ nodes"
	}
	fmt.Fprint(w, "\n\n")
	withPG := false
	for _, s := range rep.Summary {
		withPG = withPG || s.PostgresCPU > 0
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	head := "target\tscenario\truns\tcalls/s\tp50 ms\tp90 ms\tp99 ms\tp99.9 ms\tmax ms\terrors\t" + cpuHead + "\t" + rssHead + "\t"
	if withPG {
		head += "postgres CPU\t"
	}
	fmt.Fprintln(tw, head)
	for _, s := range rep.Summary {
		cpu, rss := "-", "-"
		if s.ServerRSS > 0 {
			cpu, rss = fmt.Sprintf("%.2f", s.ServerCPU), fmt.Sprintf("%.1f", s.ServerRSS)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%.0f\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f\t%d\t%s\t%s\t", s.Target, s.Scenario, s.Runs, s.CallsPerS,
			s.LatencyMs.P50, s.LatencyMs.P90, s.LatencyMs.P99, s.LatencyMs.P999, s.LatencyMs.Max, s.Errors, cpu, rss)
		if withPG {
			pg := "-"
			if s.PostgresCPU > 0 {
				pg = fmt.Sprintf("%.2f", s.PostgresCPU)
			}
			fmt.Fprintf(tw, "%s\t", pg)
		}
		fmt.Fprintln(tw)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	var perNode []string
	for _, s := range rep.Summary {
		if len(s.NodeCallsPerS) > 1 {
			parts := make([]string, len(s.NodeCallsPerS))
			for i, c := range s.NodeCallsPerS {
				parts[i] = fmt.Sprintf("%.0f", c)
			}
			perNode = append(perNode, fmt.Sprintf("  %-28s %s", s.Target+" "+s.Scenario, strings.Join(parts, " / ")))
		}
	}
	if len(perNode) > 0 {
		fmt.Fprintln(w, "\ncalls/s per node (medians):")
		for _, line := range perNode {
			fmt.Fprintln(w, line)
		}
	}
	if len(rep.Ratios) > 0 {
		fmt.Fprintln(w, "\nagainst the floors (medians):")
		for _, r := range rep.Ratios {
			verdict := ""
			if r.Met != nil {
				verdict = "  target " + r.Target + ": met"
				if !*r.Met {
					verdict = "  target " + r.Target + ": MISSED"
				}
			}
			fmt.Fprintf(w, "  %-45s %8.3f%s\n", r.Name, r.Value, verdict)
		}
	}
	for _, warn := range rep.Warnings {
		fmt.Fprintln(w, "warning:", warn)
	}
	return nil
}
