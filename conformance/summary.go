package conformance

import (
	"context"
	"slices"
	"sort"
	"time"

	"github.com/capd-dev/capd/internal/capability"
)

// Conformance states of a capability version or a matrix cell.
const (
	StatusPassing  = "passing"   // every latest case result passed
	StatusFailing  = "failing"   // at least one failed or errored
	StatusNeverRun = "never_run" // no result recorded
)

// Cell is the newest state of one capability version on one provider
// instance: how many of its cases pass, when it last ran, which do not.
type Cell struct {
	Provider   string
	Capability string
	Version    string
	Passed     int
	Total      int
	LastRun    time.Time // the newest started_at among its results
	Failing    []capability.ConformanceResult
}

// Status is passing or failing.
func (c Cell) Status() string {
	if c.Passed == c.Total {
		return StatusPassing
	}
	return StatusFailing
}

// Cells groups the newest result per case (from a store's
// LatestConformance) into one cell per provider instance and capability
// version, sorted by provider, capability, version.
func Cells(latest []capability.ConformanceResult) []Cell {
	index := map[[3]string]int{}
	var cells []Cell
	for _, r := range latest {
		key := [3]string{r.Provider, r.Capability, r.Version}
		i, ok := index[key]
		if !ok {
			i = len(cells)
			index[key] = i
			cells = append(cells, Cell{Provider: r.Provider, Capability: r.Capability, Version: r.Version})
		}
		c := &cells[i]
		c.Total++
		if r.Outcome == capability.OutcomePass {
			c.Passed++
		} else {
			c.Failing = append(c.Failing, r)
		}
		if r.StartedAt.After(c.LastRun) {
			c.LastRun = r.StartedAt
		}
	}
	sort.Slice(cells, func(i, j int) bool {
		a, b := cells[i], cells[j]
		if a.Provider != b.Provider {
			return a.Provider < b.Provider
		}
		if a.Capability != b.Capability {
			return a.Capability < b.Capability
		}
		return a.Version < b.Version
	})
	return cells
}

// Badge sums the cells of one capability version across providers.
type Badge struct {
	Status    string // passing, failing or never_run
	Passed    int
	Total     int
	Providers int
	LastRun   time.Time
}

// BadgeFor returns the badge of capability@version from cells.
func BadgeFor(cells []Cell, capabilityName, version string) Badge {
	b := Badge{Status: StatusNeverRun}
	for _, c := range cells {
		if c.Capability != capabilityName || c.Version != version {
			continue
		}
		b.Providers++
		b.Passed += c.Passed
		b.Total += c.Total
		if c.LastRun.After(b.LastRun) {
			b.LastRun = c.LastRun
		}
	}
	switch {
	case b.Total == 0:
	case b.Passed == b.Total:
		b.Status = StatusPassing
	default:
		b.Status = StatusFailing
	}
	return b
}

// Run is one recorded run, case by case.
type Run struct {
	ID        string
	StartedAt time.Time
	Results   []capability.ConformanceResult // in case order
	Summary   Summary
}

// maxRunResults bounds how many results LoadRun reads: a run is every case
// of every version on every tenant, so this allows thousands of tenants.
const maxRunResults = 1_000_000

// LoadRun reads one recorded run in the order its cases ran;
// capability.ErrNotFound if no result carries the id.
func LoadRun(ctx context.Context, store capability.ControlStore, id string) (*Run, error) {
	rs, err := store.ListConformance(ctx, capability.ConformanceFilter{RunID: id, Limit: maxRunResults})
	if err != nil {
		return nil, err
	}
	if len(rs) == 0 {
		return nil, capability.ErrNotFound
	}
	slices.Reverse(rs) // the store lists newest first
	run := &Run{ID: id, StartedAt: rs[0].StartedAt, Results: rs, Summary: Summarize(rs)}
	return run, nil
}
