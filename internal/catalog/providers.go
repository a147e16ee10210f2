package catalog

import (
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/capd-dev/capd/conformance"
	"github.com/capd-dev/capd/internal/capability"
)

// providersView is the conformance matrix: one row per callable capability
// version, one column per provider instance, in the manner of Bowtie's
// compliance report.
type providersView struct {
	Providers []providerColumn
	Rows      []matrixRow
	Failing   []failingCell // every red cell's failing cases, under the table
	Passed    int
	Total     int
	LastRun   time.Time
}

// providerColumn is one provider instance, split at its colon so a narrow
// column can wrap as "projectkit:" / "tenant".
type providerColumn struct {
	Name     string
	Kind     string // "projectkit:"
	Instance string // "switchback-engineering"
}

// matrixRow is one capability version across every provider.
type matrixRow struct {
	Ref     string
	Head    string // "projects."
	Tail    string // "create_task"
	Version string
	URL     string
	Cells   []matrixCell
}

// matrixCell is one capability version on one provider instance.
type matrixCell struct {
	Empty   bool // no result recorded
	Passed  int
	Total   int
	Status  string
	LastRun time.Time
	URL     string // the failing cases under the table, or the capability's results
}

// failingCell lists the cases of one red cell that did not pass.
type failingCell struct {
	Anchor   string
	Provider string
	Ref      string
	URL      string
	Cases    []resultRow
}

func (s *server) handleProviders(w http.ResponseWriter, r *http.Request) {
	latest, err := s.control.LatestConformance(r.Context(), capability.ConformanceFilter{})
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	cells := conformance.Cells(latest)
	byKey := map[[3]string]conformance.Cell{}
	seen := map[string]bool{}
	var data providersView
	for _, c := range cells {
		byKey[[3]string{c.Provider, c.Capability, c.Version}] = c
		if !seen[c.Provider] {
			seen[c.Provider] = true
			kind, instance, ok := strings.Cut(c.Provider, ":")
			if ok {
				kind += ":"
			} else {
				kind, instance = "", c.Provider
			}
			data.Providers = append(data.Providers, providerColumn{Name: c.Provider, Kind: kind, Instance: instance})
		}
	}
	sort.Slice(data.Providers, func(i, j int) bool { return data.Providers[i].Name < data.Providers[j].Name })

	for _, v := range s.reg.Versions() {
		m := v.Manifest
		if m.Status == capability.StatusRetired {
			continue
		}
		row := matrixRow{Ref: m.Ref(), URL: capabilityURL(m.Name, m.Version)}
		row.Head, row.Tail = splitRef(m.Name)
		row.Version = m.Version
		for _, p := range data.Providers {
			c, ok := byKey[[3]string{p.Name, m.Name, m.Version}]
			if !ok {
				row.Cells = append(row.Cells, matrixCell{Empty: true})
				continue
			}
			cell := matrixCell{Passed: c.Passed, Total: c.Total, Status: c.Status(), LastRun: c.LastRun,
				URL: row.URL + "#conformance"}
			data.Passed += c.Passed
			data.Total += c.Total
			if c.LastRun.After(data.LastRun) {
				data.LastRun = c.LastRun
			}
			if len(c.Failing) > 0 {
				f := failingCell{Anchor: "failing-" + sanitizeID(p.Name) + "-" + sanitizeID(m.Ref()),
					Provider: p.Name, Ref: m.Ref(), URL: row.URL}
				// Newest first, as everywhere else in the catalog.
				sort.SliceStable(c.Failing, func(i, j int) bool { return c.Failing[i].StartedAt.After(c.Failing[j].StartedAt) })
				for _, res := range c.Failing {
					f.Cases = append(f.Cases, newResultRow(res))
				}
				cell.URL = "#" + f.Anchor
				data.Failing = append(data.Failing, f)
			}
			row.Cells = append(row.Cells, cell)
		}
		data.Rows = append(data.Rows, row)
	}
	s.render(w, r, http.StatusOK, "providers", view{Title: "Providers", Section: "providers", Data: data})
}
