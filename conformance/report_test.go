package conformance_test

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/capd-dev/capd/conformance"
	"github.com/capd-dev/capd/internal/capability"
	"github.com/capd-dev/capd/internal/schema"
	"github.com/capd-dev/capd/internal/store/sqlite"
	"github.com/capd-dev/capd/schemas"
)

// runStart is when mixedRun's clock starts; each reading moves it 5 ms on,
// so every local case takes exactly 5 ms.
var runStart = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

// mixedRun is a real run against projectkit with one case passing, one
// failing and one erroring, plus two results recorded for a second
// provider instance, one of them failing with a message full of XML.
func mixedRun(t *testing.T) (string, []capability.ConformanceResult) {
	t.Helper()
	ctx := context.Background()
	suite := loadSuite(t)
	db, err := sqlite.Open(ctx, sqlite.Options{Dir: t.TempDir()})
	require.NoError(t, err)
	defer db.Close()
	require.NoError(t, db.Control().CreateTenant(ctx, &capability.Tenant{Slug: "org"}))
	local, err := conformance.NewLocal(ctx, suite.Registry, db.Tenants(), "org")
	require.NoError(t, err)
	defer local.Close()

	passes := suite.Select(conformance.Filter{Capability: "projects.list_staff@0.1.0", Case: "happy_path"})
	require.Len(t, passes, 1)
	getTask := version(t, suite, "projects.get_task")
	fails := &conformance.Case{
		ID: "expects_success", Kind: conformance.KindHappy, Version: getTask,
		Input: map[string]any{"task_id": unknownTaskID}, Expect: conformance.Expect{OK: true},
	}
	errs := &conformance.Case{
		ID: "given_fails", Kind: conformance.KindRejection, Version: getTask,
		Given:  []conformance.Step{{As: "t", Call: "projects.get_task", Input: map[string]any{"task_id": unknownTaskID}}},
		Input:  map[string]any{"task_id": "{{t.task.task_id}}"},
		Expect: conformance.Expect{Error: capability.CodeUnknownTask},
	}
	now := runStart
	clock := func() time.Time {
		now = now.Add(5 * time.Millisecond)
		return now
	}
	runID := conformance.NewRunID(runStart)
	results := (&conformance.Runner{Suite: suite, Now: clock}).Run(ctx, runID, local, []*conformance.Case{passes[0], fails, errs})
	require.Len(t, results, 3)
	for i, want := range []string{capability.OutcomePass, capability.OutcomeFail, capability.OutcomeError} {
		require.Equal(t, want, results[i].Outcome, "%s: %s", results[i].CaseID, results[i].Message)
	}
	peer := capability.ConformanceResult{
		RunID: runID, Provider: "peer", Capability: "projects.create_task", Version: "0.1.0",
		StartedAt: runStart.Add(time.Second),
	}
	ok, broken := peer, peer
	ok.CaseID, ok.Kind, ok.Outcome, ok.Duration = "happy_path", conformance.KindHappy, capability.OutcomePass, 12*time.Millisecond
	broken.CaseID, broken.Kind, broken.Outcome, broken.Duration = "rejects_unknown_project", conformance.KindRejection, capability.OutcomeFail, 1500*time.Millisecond
	broken.Message = `expected rejection unknown_project, got success: {"ok":true,"note":"<b>&amp;</b>"}`
	return runID, append(results, ok, broken)
}

func outcomes(results []capability.ConformanceResult) (passed, failed, errored int) {
	for _, r := range results {
		switch r.Outcome {
		case capability.OutcomePass:
			passed++
		case capability.OutcomeFail:
			failed++
		default:
			errored++
		}
	}
	return
}

func TestWriteJSON(t *testing.T) {
	runID, results := mixedRun(t)
	compiler, err := schema.NewCompiler(schemas.FS)
	require.NoError(t, err)
	reportSchema, err := compiler.CompileShared(schema.SharedPrefix + "conformance-report.schema.json")
	require.NoError(t, err)
	validate := func(t *testing.T, doc any) []capability.Issue {
		t.Helper()
		raw, err := json.Marshal(doc)
		require.NoError(t, err)
		v, err := schema.Decode(raw, schema.MaxDepth)
		require.NoError(t, err)
		return reportSchema.Validate(v)
	}
	write := func(t *testing.T, results []capability.ConformanceResult) map[string]any {
		t.Helper()
		var buf bytes.Buffer
		require.NoError(t, conformance.WriteJSON(&buf, conformance.NewReport(runID, runStart, runStart.Add(2*time.Second), results)))
		v, err := schema.Decode(buf.Bytes(), schema.MaxDepth)
		require.NoError(t, err)
		assert.Empty(t, reportSchema.Validate(v), "WriteJSON's output satisfies conformance-report.schema.json:\n%s", buf.String())
		var doc map[string]any
		require.NoError(t, json.Unmarshal(buf.Bytes(), &doc))
		return doc
	}

	t.Run("OK", func(t *testing.T) {
		doc := write(t, results)
		assert.Equal(t, runID, doc["run_id"])
		assert.Equal(t, "2026-03-01T10:00:00Z", doc["started_at"])
		assert.Equal(t, "2026-03-01T10:00:02Z", doc["finished_at"])
		passed, failed, errored := outcomes(results)
		assert.Equal(t, map[string]any{"passed": float64(passed), "failed": float64(failed), "errored": float64(errored), "total": float64(len(results))}, doc["summary"])
		assert.Equal(t, []int{2, 2, 1}, []int{passed, failed, errored}, "the run is mixed")
		items := doc["results"].([]any)
		require.Len(t, items, len(results))
		for i, r := range results {
			item := items[i].(map[string]any)
			assert.Equal(t, r.Provider, item["provider"])
			assert.Equal(t, r.Capability, item["capability"])
			assert.Equal(t, r.Version, item["version"])
			assert.Equal(t, r.CaseID, item["case"])
			assert.Equal(t, r.Kind, item["kind"])
			assert.Equal(t, r.Outcome, item["outcome"])
			assert.Equal(t, float64(r.Duration.Milliseconds()), item["duration_ms"])
			if r.Outcome == capability.OutcomePass {
				assert.NotContains(t, item, "message")
			} else {
				assert.Equal(t, r.Message, item["message"])
			}
		}
		assert.Equal(t, float64(5), items[0].(map[string]any)["duration_ms"], "the injected clock times local cases")
		assert.Equal(t, "projectkit:org", items[0].(map[string]any)["provider"])
	})

	t.Run("Empty", func(t *testing.T) {
		doc := write(t, nil)
		assert.Equal(t, []any{}, doc["results"], "no results is an empty list, not null")
	})

	// The schema is strict enough to reject what WriteJSON never writes.
	t.Run("ErrSchemaRejects", func(t *testing.T) {
		for name, edit := range map[string]func(doc map[string]any){
			"UnknownField":         func(d map[string]any) { d["extra"] = true },
			"UnknownResultField":   func(d map[string]any) { result(d, 0)["extra"] = true },
			"UnknownSummaryField":  func(d map[string]any) { d["summary"].(map[string]any)["skipped"] = 0 },
			"MissingSummaryTotal":  func(d map[string]any) { delete(d["summary"].(map[string]any), "total") },
			"MissingRunID":         func(d map[string]any) { delete(d, "run_id") },
			"BadStartedAt":         func(d map[string]any) { d["started_at"] = "yesterday" },
			"BadResultStartedAt":   func(d map[string]any) { result(d, 0)["started_at"] = "2026-02-30T25:00:00Z" },
			"UnknownOutcome":       func(d map[string]any) { result(d, 0)["outcome"] = "skipped" },
			"UnknownKind":          func(d map[string]any) { result(d, 0)["kind"] = "exploratory" },
			"NegativeDuration":     func(d map[string]any) { result(d, 0)["duration_ms"] = -1 },
			"FractionalDuration":   func(d map[string]any) { result(d, 0)["duration_ms"] = 1.5 },
			"FailWithoutMessage":   func(d map[string]any) { delete(result(d, 1), "message") },
			"PassWithMessage":      func(d map[string]any) { result(d, 0)["message"] = "fine" },
			"VersionNotSemver":     func(d map[string]any) { result(d, 0)["version"] = "latest" },
			"MissingResultCase":    func(d map[string]any) { delete(result(d, 0), "case") },
			"ResultsNotAList":      func(d map[string]any) { d["results"] = map[string]any{} },
			"SummaryCountNegative": func(d map[string]any) { d["summary"].(map[string]any)["failed"] = -1 },
		} {
			t.Run(name, func(t *testing.T) {
				doc := write(t, results)
				edit(doc)
				assert.NotEmpty(t, validate(t, doc))
			})
		}
	})
}

func result(doc map[string]any, i int) map[string]any {
	return doc["results"].([]any)[i].(map[string]any)
}

// JUnit as CI systems read it, parsed independently of report.go's types.
type junitReport struct {
	XMLName  xml.Name         `xml:"testsuites"`
	Name     string           `xml:"name,attr"`
	Tests    int              `xml:"tests,attr"`
	Failures int              `xml:"failures,attr"`
	Errors   int              `xml:"errors,attr"`
	Time     string           `xml:"time,attr"`
	Suites   []junitTestsuite `xml:"testsuite"`
}

type junitTestsuite struct {
	Name     string          `xml:"name,attr"`
	Tests    int             `xml:"tests,attr"`
	Failures int             `xml:"failures,attr"`
	Errors   int             `xml:"errors,attr"`
	Cases    []junitTestcase `xml:"testcase"`
}

type junitTestcase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitOutcome `xml:"failure"`
	Error     *junitOutcome `xml:"error"`
}

type junitOutcome struct {
	Message string `xml:"message,attr"`
	Text    string `xml:",chardata"`
}

func TestWriteJUnit(t *testing.T) {
	runID, results := mixedRun(t)
	var buf bytes.Buffer
	require.NoError(t, conformance.WriteJUnit(&buf, conformance.NewReport(runID, runStart, runStart.Add(2*time.Second), results)))
	out := buf.Bytes()
	require.True(t, bytes.HasPrefix(out, []byte(xml.Header)), "starts with the XML declaration")

	var doc junitReport
	require.NoError(t, xml.Unmarshal(out, &doc), "%s", out)
	passed, failed, errored := outcomes(results)
	assert.Equal(t, []int{len(results), failed, errored}, []int{doc.Tests, doc.Failures, doc.Errors}, "root counts")
	assert.Equal(t, 2, passed)
	assert.Contains(t, doc.Name, runID)

	// One testsuite per provider instance, in the order they first ran.
	var providers []string
	byProvider := map[string][]capability.ConformanceResult{}
	for _, r := range results {
		if _, seen := byProvider[r.Provider]; !seen {
			providers = append(providers, r.Provider)
		}
		byProvider[r.Provider] = append(byProvider[r.Provider], r)
	}
	require.Len(t, doc.Suites, len(providers))
	for i, s := range doc.Suites {
		assert.Equal(t, providers[i], s.Name)
		want := byProvider[s.Name]
		_, f, e := outcomes(want)
		assert.Equal(t, []int{len(want), f, e}, []int{s.Tests, s.Failures, s.Errors}, "counts of suite %s", s.Name)
		require.Len(t, s.Cases, len(want))
		for j, c := range s.Cases {
			r := want[j]
			assert.Equal(t, r.Capability+"@"+r.Version, c.Classname)
			assert.Equal(t, r.CaseID, c.Name)
			assert.Equal(t, fmt.Sprintf("%.3f", r.Duration.Seconds()), c.Time)
			switch r.Outcome {
			case capability.OutcomePass:
				assert.Nil(t, c.Failure, c.Name)
				assert.Nil(t, c.Error, c.Name)
			case capability.OutcomeFail:
				require.NotNil(t, c.Failure, c.Name)
				assert.Nil(t, c.Error, c.Name)
				assert.Equal(t, r.Message, c.Failure.Message)
				assert.Equal(t, r.Message, c.Failure.Text)
			case capability.OutcomeError:
				require.NotNil(t, c.Error, c.Name)
				assert.Nil(t, c.Failure, c.Name)
				assert.Equal(t, r.Message, c.Error.Message)
				assert.Equal(t, r.Message, c.Error.Text)
			}
		}
	}
	assert.Contains(t, byProvider["peer"][1].Message, "<b>&amp;</b>", "a message that needs escaping survives")
}

func TestWriteTable(t *testing.T) {
	_, results := mixedRun(t)

	t.Run("OK", func(t *testing.T) {
		var buf bytes.Buffer
		require.NoError(t, conformance.WriteTable(&buf, results))
		lines := strings.Split(buf.String(), "\n")
		require.Greater(t, len(lines), len(results))
		assert.Equal(t, []string{"PASS", "PROVIDER", "CAPABILITY", "TEST", "MS", "WHEN"}, strings.Fields(lines[0]))
		marks := map[string]string{capability.OutcomePass: "pass", capability.OutcomeFail: "FAIL", capability.OutcomeError: "ERROR"}
		for i, r := range results {
			row := strings.Fields(lines[1+i])
			require.Len(t, row, 7, "mark, provider, capability@version, case, ms, date and time: %q", lines[1+i])
			assert.Equal(t, []string{marks[r.Outcome], r.Provider, r.Capability + "@" + r.Version, r.CaseID, fmt.Sprint(r.Duration.Milliseconds())}, row[:5])
			assert.Equal(t, r.StartedAt.Local().Format("01-02 15:04"), row[5]+" "+row[6])
		}
		assert.Equal(t, "5", strings.Fields(lines[1])[4])

		// Every failure and error is listed with its reason.
		text := buf.String()
		for _, r := range results {
			line := fmt.Sprintf("%s %s %s@%s %s: %s", strings.ToUpper(r.Outcome), r.Provider, r.Capability, r.Version, r.CaseID, r.Message)
			if r.Outcome == capability.OutcomePass {
				assert.NotContains(t, text, line)
			} else {
				assert.Contains(t, text, line+"\n")
			}
		}

		tail := lastNonEmpty(lines, 2)
		assert.Equal(t, "2 passed, 2 failed", tail[0])
		assert.Equal(t, "1 errored (a given step failed, so the case could not be set up)", tail[1])
	})

	t.Run("NoErrors", func(t *testing.T) {
		var kept []capability.ConformanceResult
		for _, r := range results {
			if r.Outcome != capability.OutcomeError {
				kept = append(kept, r)
			}
		}
		var buf bytes.Buffer
		require.NoError(t, conformance.WriteTable(&buf, kept))
		assert.Equal(t, []string{"2 passed, 2 failed"}, lastNonEmpty(strings.Split(buf.String(), "\n"), 1))
		assert.NotContains(t, buf.String(), "errored")
	})

	t.Run("AllPass", func(t *testing.T) {
		var buf bytes.Buffer
		require.NoError(t, conformance.WriteTable(&buf, results[:1]))
		assert.Equal(t, []string{"1 passed, 0 failed"}, lastNonEmpty(strings.Split(buf.String(), "\n"), 1))
		assert.NotContains(t, buf.String(), "FAIL")
	})
}

// lastNonEmpty returns the last n non-empty lines, in order.
func lastNonEmpty(lines []string, n int) []string {
	var out []string
	for i := len(lines) - 1; i >= 0 && len(out) < n; i-- {
		if strings.TrimSpace(lines[i]) != "" {
			out = append([]string{lines[i]}, out...)
		}
	}
	return out
}
