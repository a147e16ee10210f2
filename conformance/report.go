package conformance

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/capd-dev/capd/internal/capability"
)

// Summary counts a run's outcomes.
type Summary struct {
	Passed  int `json:"passed"`
	Failed  int `json:"failed"`
	Errored int `json:"errored"`
	Total   int `json:"total"`
}

// Summarize counts results by outcome.
func Summarize(results []capability.ConformanceResult) Summary {
	s := Summary{Total: len(results)}
	for _, r := range results {
		switch r.Outcome {
		case capability.OutcomePass:
			s.Passed++
		case capability.OutcomeFail:
			s.Failed++
		default:
			s.Errored++
		}
	}
	return s
}

// OK reports whether every case passed.
func (s Summary) OK() bool { return s.Failed == 0 && s.Errored == 0 }

// WriteTable writes the human report: one row per case (pass, provider,
// capability@version, test, ms, when), the reasons for every failure and
// error, and the summary line "N passed, N failed".
func WriteTable(w io.Writer, results []capability.ConformanceResult) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PASS\tPROVIDER\tCAPABILITY\tTEST\tMS\tWHEN")
	for _, r := range results {
		fmt.Fprintf(tw, "%s\t%s\t%s@%s\t%s\t%d\t%s\n", mark(r.Outcome), r.Provider, r.Capability, r.Version, r.CaseID,
			r.Duration.Milliseconds(), r.StartedAt.Local().Format("01-02 15:04"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	var problems []capability.ConformanceResult
	for _, r := range results {
		if r.Outcome != capability.OutcomePass {
			problems = append(problems, r)
		}
	}
	if len(problems) > 0 {
		fmt.Fprintln(w)
		for _, r := range problems {
			fmt.Fprintf(w, "%s %s %s@%s %s: %s\n", strings.ToUpper(r.Outcome), r.Provider, r.Capability, r.Version, r.CaseID, r.Message)
		}
	}
	s := Summarize(results)
	fmt.Fprintf(w, "\n%d passed, %d failed\n", s.Passed, s.Failed)
	if s.Errored > 0 {
		fmt.Fprintf(w, "%d errored (a given step failed, so the case could not be set up)\n", s.Errored)
	}
	return nil
}

func mark(outcome string) string {
	switch outcome {
	case capability.OutcomePass:
		return "pass"
	case capability.OutcomeFail:
		return "FAIL"
	}
	return "ERROR"
}

// Report is the JSON form of a run (schemas/conformance-report.schema.json).
type Report struct {
	RunID      string         `json:"run_id"`
	StartedAt  time.Time      `json:"started_at"`
	FinishedAt time.Time      `json:"finished_at"`
	Summary    Summary        `json:"summary"`
	Results    []ResultReport `json:"results"`
}

// ResultReport is one case's result as JSON: in a Report (which carries the
// run id once, at the top) and in the HTTP API's listings (which carry it
// per result).
type ResultReport struct {
	RunID      string    `json:"run_id,omitempty"`
	Provider   string    `json:"provider"`
	Capability string    `json:"capability"`
	Version    string    `json:"version"`
	Case       string    `json:"case"`
	Kind       string    `json:"kind"`
	Outcome    string    `json:"outcome"`
	DurationMS int64     `json:"duration_ms"`
	StartedAt  time.Time `json:"started_at"`
	Message    string    `json:"message,omitempty"`
}

// NewReport builds the JSON report of a run.
func NewReport(runID string, started, finished time.Time, results []capability.ConformanceResult) Report {
	rep := Report{RunID: runID, StartedAt: started.UTC(), FinishedAt: finished.UTC(), Summary: Summarize(results), Results: []ResultReport{}}
	for _, r := range results {
		rr := NewResultReport(r)
		rr.RunID = ""
		rep.Results = append(rep.Results, rr)
	}
	return rep
}

// NewResultReport renders one result, run id included.
func NewResultReport(r capability.ConformanceResult) ResultReport {
	return ResultReport{
		RunID: r.RunID, Provider: r.Provider, Capability: r.Capability, Version: r.Version, Case: r.CaseID, Kind: r.Kind,
		Outcome: r.Outcome, DurationMS: r.Duration.Milliseconds(), StartedAt: r.StartedAt.UTC(), Message: r.Message,
	}
}

// WriteJSON writes the report as indented JSON.
func WriteJSON(w io.Writer, rep Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}

// JUnit types: the common subset that CI systems read.
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name      string      `xml:"name,attr"`
	Tests     int         `xml:"tests,attr"`
	Failures  int         `xml:"failures,attr"`
	Errors    int         `xml:"errors,attr"`
	Time      string      `xml:"time,attr"`
	Timestamp string      `xml:"timestamp,attr"`
	Cases     []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitProblem `xml:"failure,omitempty"`
	Error     *junitProblem `xml:"error,omitempty"`
}

type junitProblem struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

// WriteJUnit writes the run as JUnit XML: one testsuite per provider
// instance, one testcase per case (classname capability@version).
func WriteJUnit(w io.Writer, rep Report) error {
	root := junitSuites{Name: "capd conformance " + rep.RunID}
	index := map[string]int{}
	var total time.Duration
	for _, r := range rep.Results {
		i, ok := index[r.Provider]
		if !ok {
			i = len(root.Suites)
			index[r.Provider] = i
			root.Suites = append(root.Suites, junitSuite{Name: r.Provider, Timestamp: r.StartedAt.Format("2006-01-02T15:04:05")})
		}
		s := &root.Suites[i]
		d := time.Duration(r.DurationMS) * time.Millisecond
		total += d
		c := junitCase{Name: r.Case, Classname: r.Capability + "@" + r.Version, Time: seconds(d)}
		switch r.Outcome {
		case capability.OutcomeFail:
			c.Failure = &junitProblem{Message: r.Message, Type: "contract_violation", Text: r.Message}
			s.Failures++
			root.Failures++
		case capability.OutcomeError:
			c.Error = &junitProblem{Message: r.Message, Type: "setup_failed", Text: r.Message}
			s.Errors++
			root.Errors++
		}
		s.Tests++
		root.Tests++
		s.Cases = append(s.Cases, c)
	}
	for i := range root.Suites {
		var d time.Duration
		for _, r := range rep.Results {
			if r.Provider == root.Suites[i].Name {
				d += time.Duration(r.DurationMS) * time.Millisecond
			}
		}
		root.Suites[i].Time = seconds(d)
	}
	root.Time = seconds(total)
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(root); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

func seconds(d time.Duration) string { return fmt.Sprintf("%.3f", d.Seconds()) }
