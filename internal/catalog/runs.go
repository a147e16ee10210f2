package catalog

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/capd-dev/capd/conformance"
	"github.com/capd-dev/capd/internal/capability"
)

// runView is the data of one conformance run's page.
type runView struct {
	ID        string
	StartedAt time.Time
	Duration  time.Duration
	Summary   conformance.Summary
	Failures  []resultRow // every case that did not pass, linked to its row
	Groups    []runGroup
}

// runGroup is the cases a run checked on one provider instance.
type runGroup struct {
	Provider string
	Summary  conformance.Summary
	Rows     []resultRow
}

func (s *server) handleRun(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	run, err := conformance.LoadRun(r.Context(), s.control, id)
	if errors.Is(err, capability.ErrNotFound) {
		s.notFound(w, r, "No such run", fmt.Sprintf("No conformance run has the id %q.", id),
			link{Text: "Providers", URL: "/providers"})
		return
	}
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	data := runView{ID: run.ID, StartedAt: run.StartedAt, Summary: run.Summary}
	var end time.Time
	groups := map[string]int{}
	anchors := map[string]int{}
	for _, res := range run.Results {
		if res.StartedAt.Before(data.StartedAt) {
			data.StartedAt = res.StartedAt
		}
		if e := res.StartedAt.Add(res.Duration); e.After(end) {
			end = e
		}
		row := newResultRow(res)
		// A case recorded twice in one run keeps the first row's anchor
		// predictable and numbers the repeats.
		if n := anchors[row.Anchor]; n > 0 {
			anchors[row.Anchor]++
			row.Anchor += "-" + strconv.Itoa(n+1)
		} else {
			anchors[row.Anchor] = 1
		}
		row.URL = "#" + row.Anchor
		i, ok := groups[res.Provider]
		if !ok {
			i = len(data.Groups)
			groups[res.Provider] = i
			data.Groups = append(data.Groups, runGroup{Provider: res.Provider})
		}
		g := &data.Groups[i]
		// Consecutive cases of one capability version: the page mutes the
		// repeated name so the eye finds where the next one starts.
		if n := len(g.Rows); n > 0 && g.Rows[n-1].CapURL == row.CapURL {
			row.CapRepeat = true
		}
		g.Rows = append(g.Rows, row)
		g.Summary.Total++
		switch res.Outcome {
		case capability.OutcomePass:
			g.Summary.Passed++
		case capability.OutcomeFail:
			g.Summary.Failed++
		default:
			g.Summary.Errored++
		}
		if res.Outcome != capability.OutcomePass {
			data.Failures = append(data.Failures, row)
		}
	}
	data.Duration = end.Sub(data.StartedAt)
	s.render(w, r, http.StatusOK, "run", view{Title: "Run " + run.ID, Section: "providers", Data: data})
}
