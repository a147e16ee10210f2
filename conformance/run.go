package conformance

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/capd-dev/capd/internal/capability"
	"github.com/capd-dev/capd/internal/registry"
	"github.com/capd-dev/capd/internal/schema"
)

// Runner runs cases against targets.
type Runner struct {
	Suite *Suite
	Now   func() time.Time // nil: time.Now
	// CaseTimeout bounds one case, setup included; 0 means 30 s.
	CaseTimeout time.Duration
}

// NewRunID returns a new, sortable run id.
func NewRunID(now time.Time) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return "run_" + now.UTC().Format("20060102T150405Z") + "_" + hex.EncodeToString(b[:])
}

// Run runs cases against target and returns one result per case, in order.
func (r *Runner) Run(ctx context.Context, runID string, target Target, cases []*Case) []capability.ConformanceResult {
	out := make([]capability.ConformanceResult, 0, len(cases))
	probes := r.Suite.StateProbes()
	for i, c := range cases {
		started := r.now()
		res := capability.ConformanceResult{
			RunID: runID, Provider: target.Instance(c.Version), Capability: c.Version.Manifest.Name, Version: c.Version.Manifest.Version,
			CaseID: c.ID, Kind: c.Kind, StartedAt: started,
		}
		timeout := r.CaseTimeout
		if timeout == 0 {
			timeout = 30 * time.Second
		}
		cctx, cancel := context.WithTimeout(ctx, timeout)
		ex := &execution{target: target, c: c, probes: probes, reg: r.Suite.Registry, b: bindings{"run": map[string]any{"unique": fmt.Sprintf("%s%03d", uniqueToken(runID), i)}}}
		res.Outcome, res.Message = ex.run(cctx)
		cancel()
		res.Duration = r.now().Sub(started)
		out = append(out, res)
		if ctx.Err() != nil {
			break
		}
	}
	return out
}

func (r *Runner) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// uniqueToken is a lowercase alphanumeric token of the run, so names made
// from it are valid wherever a plain word is.
func uniqueToken(runID string) string {
	i := strings.LastIndexByte(runID, '_')
	return "c" + runID[i+1:]
}

// execution is one case being run.
type execution struct {
	target Target
	c      *Case
	b      bindings
	probes []string // capabilities that read the whole state
	reg    *registry.Registry
}

// setupError marks a failure before the call under test: the case errored,
// it did not fail.
type setupError struct{ msg string }

func (e *setupError) Error() string { return e.msg }

func (ex *execution) run(ctx context.Context) (outcome, message string) {
	err := ex.check(ctx)
	switch e := err.(type) {
	case nil:
		return capability.OutcomePass, ""
	case *setupError:
		return capability.OutcomeError, e.msg
	default:
		return capability.OutcomeFail, err.Error()
	}
}

func (ex *execution) check(ctx context.Context) error {
	c := ex.c
	for i, st := range c.Given {
		out, err := ex.callOK(ctx, st.Call, st.Input)
		if err != nil {
			return &setupError{fmt.Sprintf("given step %d (%s): %v", i+1, st.Call, err)}
		}
		if st.As != "" {
			ex.b[st.As] = out
		}
	}
	input, err := expand(c.Input, ex.b)
	if err != nil {
		return &setupError{err.Error()}
	}
	args, err := json.Marshal(input)
	if err != nil {
		return &setupError{err.Error()}
	}
	rejection := c.Expect.Error != ""
	var before map[string]any
	if rejection {
		if before, err = snapshot(ctx, ex.target, ex.probes); err != nil {
			return &setupError{"read state before the call: " + err.Error()}
		}
	}

	resp, err := ex.target.Call(ctx, c.Ref(), args)
	if err != nil {
		return fmt.Errorf("call failed: %v", err)
	}
	if resp.Output == nil {
		return fmt.Errorf("answer is not a JSON object: %.200q", resp.Text)
	}
	if issues := validateOutput(c.Version, resp.Text); len(issues) > 0 {
		return fmt.Errorf("output breaks the output schema of %s: %s (output %.300s)", c.Ref(), describeIssues(issues), resp.Text)
	}
	if rejection {
		if !resp.IsError || resp.Output["ok"] != false {
			return fmt.Errorf("expected rejection %s, got success: %.300s", c.Expect.Error, resp.Text)
		}
		if got := resp.Output["error"]; got != c.Expect.Error {
			return fmt.Errorf("expected error %s, got %v: %.300s", c.Expect.Error, got, resp.Text)
		}
		if err := checkIssues(c.Expect, resp.Output); err != nil {
			return err
		}
	} else if resp.IsError || resp.Output["ok"] != true {
		return fmt.Errorf("expected ok, got: %.300s", resp.Text)
	}
	if err := ex.checkFields(c.Expect.Fields, resp.Output, "output"); err != nil {
		return err
	}
	if rejection {
		after, err := snapshot(ctx, ex.target, ex.probes)
		if err != nil {
			return fmt.Errorf("read state after the rejected call: %v", err)
		}
		if diff := firstDifference(before, after); diff != "" {
			return fmt.Errorf("a rejected call changed state: %s", diff)
		}
		return nil
	}
	ex.b["result"] = resp.Output
	for i, ch := range c.Expect.Then {
		out, err := ex.callOK(ctx, ch.Call, ch.Input)
		if err != nil {
			return fmt.Errorf("then %d (%s): %v", i+1, ch.Call, err)
		}
		if err := ex.checkFields(ch.Fields, out, fmt.Sprintf("then %d (%s)", i+1, ch.Call)); err != nil {
			return err
		}
	}
	return nil
}

// callOK makes a setup or read-back call that must succeed.
func (ex *execution) callOK(ctx context.Context, call string, input any) (map[string]any, error) {
	in, err := expand(input, ex.b)
	if err != nil {
		return nil, err
	}
	args, err := json.Marshal(in)
	if err != nil {
		return nil, err
	}
	resp, err := ex.target.Call(ctx, call, args)
	if err != nil {
		return nil, err
	}
	if resp.IsError || resp.Output == nil || resp.Output["ok"] != true {
		return nil, fmt.Errorf("not ok: %.300s", resp.Text)
	}
	// Set-up and read-back answers are held to their contracts too: a
	// read-back that breaks its schema proves nothing about the state.
	ref, err := registry.ParseRef(call)
	if err != nil {
		return nil, err
	}
	v, err := ex.reg.Resolve(ref)
	if err != nil {
		return nil, err
	}
	if issues := validateOutput(v, resp.Text); len(issues) > 0 {
		return nil, fmt.Errorf("output breaks the output schema of %s: %s (output %.300s)", v.Manifest.Ref(), describeIssues(issues), resp.Text)
	}
	return resp.Output, nil
}

func validateOutput(v *registry.Version, text string) []capability.Issue {
	val, err := schema.Decode([]byte(text), 1<<16)
	if err != nil {
		return []capability.Issue{{Message: err.Error()}}
	}
	return v.Output.Validate(val)
}

func describeIssues(issues []capability.Issue) string {
	parts := make([]string, len(issues))
	for i, is := range issues {
		p := is.Path
		if p == "" {
			p = "(root)"
		}
		parts[i] = p + " " + is.Message
	}
	return strings.Join(parts, "; ")
}

// checkIssues requires each expected pointer to be named by an issue.
func checkIssues(e Expect, out map[string]any) error {
	if len(e.Issues) == 0 {
		return nil
	}
	raw, present := out["issues"].([]any)
	if !present && e.issuesOptional {
		return nil
	}
	var paths []string
	for _, is := range raw {
		if m, ok := is.(map[string]any); ok {
			if p, ok := m["path"].(string); ok {
				paths = append(paths, p)
			}
		}
	}
	for _, want := range e.Issues {
		if !slices.Contains(paths, want) {
			return fmt.Errorf("expected an issue at %s, got issues at %v", want, paths)
		}
	}
	return nil
}

// checkFields compares dotted paths of out with expected JSON values, which
// may be templates ("{{project.project.project_id}}").
func (ex *execution) checkFields(fields map[string]any, out map[string]any, where string) error {
	for _, path := range sortedKeys(fields) {
		expanded, err := expand(fields[path], ex.b)
		if err != nil {
			return &setupError{err.Error()}
		}
		want := normalizeJSON(expanded)
		got, ok := dig(out, path)
		if !ok {
			return fmt.Errorf("%s has no %s (expected %s)", where, path, jsonText(want))
		}
		if !reflect.DeepEqual(normalizeJSON(got), want) {
			return fmt.Errorf("%s: %s is %s, expected %s", where, path, jsonText(got), jsonText(want))
		}
	}
	return nil
}

func jsonText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// RunLocal runs cases against the built-in providers on each tenant in
// slugs, each on its own scratch copy, and returns every result.
func (r *Runner) RunLocal(ctx context.Context, runID string, stores capability.ScratchStores, slugs []string, cases []*Case) ([]capability.ConformanceResult, error) {
	var all []capability.ConformanceResult
	for _, slug := range slugs {
		t, err := NewLocal(ctx, r.Suite.Registry, stores, slug)
		if err != nil {
			return all, err
		}
		all = append(all, r.Run(ctx, runID, t, cases)...)
		if err := t.Close(); err != nil {
			return all, err
		}
		if ctx.Err() != nil {
			return all, ctx.Err()
		}
	}
	return all, nil
}
