package capability

import "time"

// Conformance outcomes. An error is a case that could not be set up (a
// given step failed), which says nothing about the capability under test.
const (
	OutcomePass  = "pass"
	OutcomeFail  = "fail"
	OutcomeError = "error"
)

// ConformanceResult is one case run against one provider instance.
type ConformanceResult struct {
	RunID      string
	Provider   string // provider instance, e.g. projectkit:switchback-engineering
	Capability string // name
	Version    string
	CaseID     string
	Kind       string // happy, rejection or generated
	Outcome    string // pass, fail or error
	Duration   time.Duration
	StartedAt  time.Time
	Message    string // why it failed or errored; empty on pass
}

// ConformanceFilter selects recorded results; empty fields do not filter.
// Results come newest first.
type ConformanceFilter struct {
	RunID      string
	Provider   string
	Capability string
	Version    string
	Outcome    string
	Limit      int // <= 0: 100
	Offset     int
}
