package httpapi

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/capd-dev/capd/conformance"
	"github.com/capd-dev/capd/internal/capability"
)

// maxPage is the largest page the list endpoints return.
const maxPage = 500

// cellJSON is one provider instance x capability version.
type cellJSON struct {
	Provider   string                     `json:"provider"`
	Capability string                     `json:"capability"`
	Version    string                     `json:"version"`
	Status     string                     `json:"status"`
	Passed     int                        `json:"passed"`
	Total      int                        `json:"total"`
	LastRunAt  time.Time                  `json:"last_run_at"`
	Failing    []conformance.ResultReport `json:"failing"`
}

func toCellJSON(c conformance.Cell) cellJSON {
	out := cellJSON{Provider: c.Provider, Capability: c.Capability, Version: c.Version, Status: c.Status(),
		Passed: c.Passed, Total: c.Total, LastRunAt: c.LastRun.UTC(), Failing: []conformance.ResultReport{}}
	for _, f := range c.Failing {
		out.Failing = append(out.Failing, conformance.NewResultReport(f))
	}
	return out
}

// listRuns serves GET /api/v1/conformance/runs: recorded results, newest
// first, filtered by capability, version, provider and outcome, paged with
// limit (1..500, default 100) and offset.
func (a *API) listRuns(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := capability.ConformanceFilter{Capability: q.Get("capability"), Version: q.Get("version"), Provider: q.Get("provider"), Outcome: q.Get("outcome")}
	var bad []FieldError
	f.Limit = 100
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxPage {
			bad = append(bad, FieldError{Loc: []string{"query", "limit"}, Msg: "must be an integer from 1 to 500", Type: "range"})
		}
		f.Limit = n
	}
	if s := q.Get("offset"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			bad = append(bad, FieldError{Loc: []string{"query", "offset"}, Msg: "must be an integer of 0 or more", Type: "range"})
		}
		f.Offset = n
	}
	switch f.Outcome {
	case "", capability.OutcomePass, capability.OutcomeFail, capability.OutcomeError:
	default:
		bad = append(bad, FieldError{Loc: []string{"query", "outcome"}, Msg: "must be one of: pass, fail, error", Type: "enum"})
	}
	if len(bad) > 0 {
		writeEnvelope(w, Envelope{Code: http.StatusUnprocessableEntity, Type: "validation_error", Detail: "invalid query parameters", Errors: bad})
		return
	}
	// One more than asked tells whether a next page exists.
	asked := f.Limit
	f.Limit++
	rs, err := a.Control.ListConformance(r.Context(), f)
	if err != nil {
		a.internalError(w, "list conformance", err)
		return
	}
	var next *int
	if len(rs) > asked {
		rs = rs[:asked]
		n := f.Offset + asked
		next = &n
	}
	items := make([]conformance.ResultReport, 0, len(rs))
	for _, res := range rs {
		items = append(items, conformance.NewResultReport(res))
	}
	writeJSON(w, map[string]any{"items": items, "limit": asked, "offset": f.Offset, "next_offset": next})
}

// getRun serves GET /api/v1/conformance/runs/{id}: one run, case by case.
func (a *API) getRun(w http.ResponseWriter, r *http.Request) {
	run, err := conformance.LoadRun(r.Context(), a.Control, r.PathValue("id"))
	if errors.Is(err, capability.ErrNotFound) {
		WriteError(w, http.StatusNotFound, "not_found", "no conformance run "+r.PathValue("id"))
		return
	}
	if err != nil {
		a.internalError(w, "load run", err)
		return
	}
	items := make([]conformance.ResultReport, 0, len(run.Results))
	for _, res := range run.Results {
		items = append(items, conformance.NewResultReport(res))
	}
	writeJSON(w, map[string]any{"run_id": run.ID, "started_at": run.StartedAt.UTC(), "summary": run.Summary, "results": items})
}

// listProviders serves GET /api/v1/providers: every provider instance with
// its cells (capability version, passed/total, last run, failing cases).
func (a *API) listProviders(w http.ResponseWriter, r *http.Request) {
	cells, err := a.cells(r)
	if err != nil {
		a.internalError(w, "conformance cells", err)
		return
	}
	type provider struct {
		Provider string     `json:"provider"`
		Status   string     `json:"status"`
		Cells    []cellJSON `json:"cells"`
	}
	items := []*provider{}
	for _, c := range cells {
		if len(items) == 0 || items[len(items)-1].Provider != c.Provider {
			items = append(items, &provider{Provider: c.Provider, Status: conformance.StatusPassing})
		}
		p := items[len(items)-1]
		p.Cells = append(p.Cells, toCellJSON(c))
		if c.Status() != conformance.StatusPassing {
			p.Status = conformance.StatusFailing
		}
	}
	writeJSON(w, map[string]any{"items": items})
}
