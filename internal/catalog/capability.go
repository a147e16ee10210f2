package catalog

import (
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/capd-dev/capd/conformance"
	"github.com/capd-dev/capd/internal/capability"
	"github.com/capd-dev/capd/internal/registry"
)

// recentRunsLimit is how many conformance results a capability page lists.
const recentRunsLimit = 50

// capabilityView is the data of one capability version's page, modelled on
// seed 001.
type capabilityView struct {
	Name           string
	Version        string
	Title          string
	Scope          capability.Scope
	Status         capability.Status
	Summary        string
	Replacement    string
	ReplacementURL string
	Current        bool // the version a bare name resolves to
	Semantics      []span
	Invariants     [][]span
	WhenToUse      []span
	Input          []jsonSpan
	Output         []jsonSpan
	Errors         []errorRow
	Examples       []exampleView
	Versions       []versionRow     // newest first
	Comparisons    []comparisonView // each version against the one before, newest first
	ShowSets       bool             // the catalog has set pages
	InSets         []containingSet  // public sets listing this capability
	Badge          conformance.Badge
	Providers      []providerState
	Runs           []resultRow
	RunsLimited    bool // Runs stopped at recentRunsLimit; older results exist
}

// errorRow is one documented rejection code.
type errorRow struct {
	Code    string
	Meaning []span
	Next    []span
}

// exampleView is one documented call.
type exampleView struct {
	Title  string
	Input  []jsonSpan
	Output []jsonSpan
}

// versionRow is one version of the capability in the Versions list, or
// one column of the side-by-side view.
type versionRow struct {
	Version        string
	URL            string
	Status         capability.Status
	Replacement    string
	ReplacementURL string
	Summary        string
	Shown          bool   // the version this page shows
	Current        bool   // the version a bare name resolves to
	Previous       string // the version before this one, if any
	CompareURL     string // the comparison with Previous
}

// versionRow describes v; shown is the version the page is about (nil on
// pages about no single version), current the one a bare name resolves to.
func (s *server) versionRow(v, shown, current *registry.Version) versionRow {
	m := v.Manifest
	return versionRow{
		Version: m.Version, URL: capabilityURL(m.Name, m.Version), Status: m.Status,
		Replacement: m.Replacement, ReplacementURL: s.capabilityURLFor(m.Replacement), Summary: m.Summary,
		Shown: v == shown, Current: v == current,
	}
}

// providerState is one provider instance's newest state for this version.
type providerState struct {
	Provider string
	Passed   int
	Total    int
	Status   string
	LastRun  time.Time
}

// resultRow is one recorded case result.
type resultRow struct {
	Outcome    string
	Provider   string
	Capability string
	Version    string
	CaseID     string
	Kind       string
	Duration   time.Duration
	StartedAt  time.Time
	Message    string
	CapURL     string
	CapHead    string // "projects.", so narrow columns can wrap after it
	CapTail    string // "create_task@0.1.0"
	CapRepeat  bool   // run page: same capability version as the row above
	URL        string // the case on its run page
	RunURL     string
	Anchor     string
}

func newResultRow(r capability.ConformanceResult) resultRow {
	anchor := caseAnchor(r.Provider, r.Capability, r.Version, r.CaseID)
	head, tail := splitRef(r.Capability + "@" + r.Version)
	return resultRow{
		CapHead: head, CapTail: tail,
		Outcome: r.Outcome, Provider: r.Provider, Capability: r.Capability, Version: r.Version,
		CaseID: r.CaseID, Kind: r.Kind, Duration: r.Duration, StartedAt: r.StartedAt, Message: r.Message,
		CapURL: capabilityURL(r.Capability, r.Version), URL: runURL(r.RunID, anchor), RunURL: runURL(r.RunID, ""), Anchor: anchor,
	}
}

func (s *server) handleCapability(w http.ResponseWriter, r *http.Request) {
	name, version := r.PathValue("name"), r.PathValue("version")
	versions := s.reg.VersionsOf(name)
	if len(versions) == 0 {
		s.notFound(w, r, "No such capability", fmt.Sprintf("No capability is named %q.", name))
		return
	}
	v := s.current(name)
	if version != "" {
		var ok bool
		if v, ok = s.versionOrNotFound(w, r, name, version); !ok {
			return
		}
	}
	data, err := s.capabilityData(r, v)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "capability", view{Title: name, Section: "capabilities", Data: data})
}

// versionOrNotFound returns the version of the known capability name that
// version names ("0.1.0" or "v0.1.0"), or answers 404 listing the versions
// there are.
func (s *server) versionOrNotFound(w http.ResponseWriter, r *http.Request, name, version string) (*registry.Version, bool) {
	versions := s.reg.VersionsOf(name)
	i := slices.IndexFunc(versions, func(v *registry.Version) bool {
		return v.Manifest.Version == strings.TrimPrefix(version, "v")
	})
	if i < 0 {
		have := make([]string, len(versions))
		for i, v := range versions {
			have[i] = v.Manifest.Version
		}
		s.notFound(w, r, "No such version",
			fmt.Sprintf("%s has no version %q; its versions are %s.", name, version, strings.Join(have, ", ")),
			link{Text: name, URL: capabilityURL(name, "")})
		return nil, false
	}
	return versions[i], true
}

func (s *server) capabilityData(r *http.Request, v *registry.Version) (*capabilityView, error) {
	m := v.Manifest
	current := s.current(m.Name)
	data := &capabilityView{
		Name: m.Name, Version: m.Version, Title: m.Title, Scope: m.Scope, Status: m.Status, Summary: m.Summary,
		Replacement: m.Replacement, ReplacementURL: s.capabilityURLFor(m.Replacement), Current: current == v,
		Semantics: s.prose(m.Semantics), WhenToUse: s.prose(m.WhenToUse),
	}
	for _, inv := range m.Invariants {
		data.Invariants = append(data.Invariants, s.prose(inv))
	}
	var err error
	if data.Input, err = s.prettyJSON(m.Input); err != nil {
		return nil, fmt.Errorf("%s input schema: %w", m.Ref(), err)
	}
	if data.Output, err = s.prettyJSON(m.Output); err != nil {
		return nil, fmt.Errorf("%s output schema: %w", m.Ref(), err)
	}
	codes := make([]string, 0, len(m.Errors))
	for code := range m.Errors {
		codes = append(codes, code)
	}
	sort.Strings(codes)
	for _, code := range codes {
		doc := m.Errors[code]
		data.Errors = append(data.Errors, errorRow{Code: code, Meaning: s.prose(doc.Meaning), Next: s.prose(doc.Next)})
	}
	for i, ex := range m.Examples {
		e := exampleView{Title: ex.Title}
		if e.Input, err = s.prettyJSON(ex.Input); err != nil {
			return nil, fmt.Errorf("%s example %d input: %w", m.Ref(), i+1, err)
		}
		if e.Output, err = s.prettyJSON(ex.Output); err != nil {
			return nil, fmt.Errorf("%s example %d output: %w", m.Ref(), i+1, err)
		}
		data.Examples = append(data.Examples, e)
	}
	versions := s.reg.VersionsOf(m.Name)
	for i := len(versions) - 1; i >= 0; i-- { // newest first
		row := s.versionRow(versions[i], v, current)
		if i > 0 {
			c, err := s.compareVersions(versions[i-1], versions[i])
			if err != nil {
				return nil, err
			}
			row.Previous, row.CompareURL = c.From, c.URL
			data.Comparisons = append(data.Comparisons, c)
		}
		data.Versions = append(data.Versions, row)
	}

	ctx := r.Context()
	if s.sets != nil {
		data.ShowSets = true
		if data.InSets, err = s.containingSets(ctx, m.Name); err != nil {
			return nil, err
		}
	}
	latest, err := s.control.LatestConformance(ctx, capability.ConformanceFilter{Capability: m.Name, Version: m.Version})
	if err != nil {
		return nil, err
	}
	cells := conformance.Cells(latest)
	data.Badge = conformance.BadgeFor(cells, m.Name, m.Version)
	for _, c := range cells {
		data.Providers = append(data.Providers, providerState{
			Provider: c.Provider, Passed: c.Passed, Total: c.Total, Status: c.Status(), LastRun: c.LastRun,
		})
	}
	recent, err := s.control.ListConformance(ctx, capability.ConformanceFilter{Capability: m.Name, Version: m.Version, Limit: recentRunsLimit})
	if err != nil {
		return nil, err
	}
	for _, res := range recent {
		data.Runs = append(data.Runs, newResultRow(res))
	}
	data.RunsLimited = len(recent) == recentRunsLimit
	return data, nil
}
