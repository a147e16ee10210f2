package invoke_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"

	"github.com/capd-dev/capd/capabilities"
	"github.com/capd-dev/capd/conformance"
	"github.com/capd-dev/capd/internal/capability"
	"github.com/capd-dev/capd/internal/invoke"
	"github.com/capd-dev/capd/internal/providers/projectkit"
	"github.com/capd-dev/capd/internal/registry"
	"github.com/capd-dev/capd/internal/schema"
	"github.com/capd-dev/capd/internal/store/sqlite"
	"github.com/capd-dev/capd/schemas"
)

// benchWorld is what the invoker benchmarks share: the real registry bound
// to projectkit, its conformance cases, and one SQLite data directory in
// which each sub-benchmark gets a tenant of its own, so one capability's
// writes never change what another one reads.
type benchWorld struct {
	reg     *registry.Registry
	suite   *conformance.Suite
	db      *sqlite.DB
	inv     *invoke.Invoker
	tenants atomic.Int64
	unique  atomic.Int64
}

func newBenchWorld(b *testing.B) *benchWorld {
	b.Helper()
	ctx := context.Background()
	reg, err := registry.Load(capabilities.FS, schemas.FS)
	if err != nil {
		b.Fatal(err)
	}
	if err := reg.Bind(projectkit.New()); err != nil {
		b.Fatal(err)
	}
	suite, err := conformance.Load(capabilities.FS, schemas.FS, reg)
	if err != nil {
		b.Fatal(err)
	}
	db, err := sqlite.Open(ctx, sqlite.Options{Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	w := &benchWorld{reg: reg, suite: suite, db: db}
	// A recorder that drops records keeps the record's construction in the
	// measured path, as in the server, without a control-database write.
	w.inv = &invoke.Invoker{
		Registry: reg,
		Tenants:  db.Tenants(),
		Recorder: discardRecorder{},
		Logger:   slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	return w
}

type discardRecorder struct{}

func (discardRecorder) Record(capability.CallRecord) {}

// newTenant creates an empty tenant and returns a full-scope caller of it.
func (w *benchWorld) newTenant(b *testing.B) capability.Principal {
	b.Helper()
	slug := fmt.Sprintf("bench-%d", w.tenants.Add(1))
	if err := w.db.Control().CreateTenant(context.Background(), &capability.Tenant{Slug: slug}); err != nil {
		b.Fatal(err)
	}
	return principal(slug)
}

// happyCase returns v's first written happy case; every version has one
// (conformance.Load refuses a cases file without).
func (w *benchWorld) happyCase(b *testing.B, v *registry.Version) *conformance.Case {
	b.Helper()
	for _, c := range w.suite.Cases(v) {
		if c.Kind == conformance.KindHappy {
			return c
		}
	}
	b.Fatalf("%s has no happy conformance case", v.Manifest.Ref())
	return nil
}

// fixture runs c's given steps as p through the invoker and returns c's
// input with its templates filled, as JSON, ready to call.
func (w *benchWorld) fixture(b *testing.B, p capability.Principal, c *conformance.Case) json.RawMessage {
	b.Helper()
	ctx := context.Background()
	bind := map[string]any{"run": map[string]any{"unique": fmt.Sprintf("b%06d", w.unique.Add(1))}}
	for i, st := range c.Given {
		in, err := conformance.ExpandTemplates(st.Input, bind)
		if err != nil {
			b.Fatalf("%s %s: given step %d: %v", c.Ref(), c.ID, i+1, err)
		}
		ref, err := registry.ParseRef(st.Call)
		if err != nil {
			b.Fatal(err)
		}
		res := w.inv.Call(ctx, p, ref, mustMarshal(b, in))
		if res.Err != nil {
			b.Fatalf("%s %s: given step %d (%s) failed: %s", c.Ref(), c.ID, i+1, st.Call, res.JSON)
		}
		if st.As != "" {
			// Templates read the answer as a client decodes it.
			var out map[string]any
			if err := json.Unmarshal(res.JSON, &out); err != nil {
				b.Fatal(err)
			}
			bind[st.As] = out
		}
	}
	in, err := conformance.ExpandTemplates(c.Input, bind)
	if err != nil {
		b.Fatalf("%s %s: %v", c.Ref(), c.ID, err)
	}
	return mustMarshal(b, in)
}

func mustMarshal(b *testing.B, v any) json.RawMessage {
	b.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		b.Fatal(err)
	}
	return raw
}

func refOf(v *registry.Version) capability.Ref {
	return capability.Ref{Name: v.Manifest.Name, Version: v.Manifest.Version}
}

// fixtureBatch is how many fixtures a benchmark of a one-shot call builds at
// a time, with the timer stopped: enough to make the stop and start (each
// reads memory statistics) rare.
const fixtureBatch = 128

// BenchmarkInvoke measures one call through the invoker (resolve, scope,
// decode and validate the input, the handler in its tenant transaction,
// output validation, the call record) for every capability version in the
// registry, with the input of its first happy conformance case. A call
// that can be repeated with the same arguments (a read, an update to the
// same values) repeats one fixture; a one-shot call (a create with a
// unique name, a transition, a cancel) gets a fresh fixture each iteration,
// built outside the timer.
func BenchmarkInvoke(b *testing.B) {
	w := newBenchWorld(b)
	ctx := context.Background()
	for _, v := range w.reg.Versions() {
		ref := refOf(v)
		if v.Manifest.Status == capability.StatusRetired {
			b.Run(v.Manifest.Ref(), func(b *testing.B) {
				b.Skip("retired: it only answers upgrade_required; there is no call to measure")
			})
			continue
		}
		b.Run(v.Manifest.Ref(), func(b *testing.B) {
			p := w.newTenant(b)
			c := w.happyCase(b, v)
			args := w.fixture(b, p, c)
			if res := w.inv.Call(ctx, p, ref, args); res.Err != nil {
				b.Fatalf("%s %s failed: %s", c.Ref(), c.ID, res.JSON)
			}
			repeatable := w.inv.Call(ctx, p, ref, args).Err == nil
			var pool []json.RawMessage
			b.ReportAllocs()
			for b.Loop() {
				if !repeatable {
					if len(pool) == 0 {
						b.StopTimer()
						for range fixtureBatch {
							pool = append(pool, w.fixture(b, p, c))
						}
						b.StartTimer()
					}
					args, pool = pool[len(pool)-1], pool[:len(pool)-1]
				}
				if res := w.inv.Call(ctx, p, ref, args); res.Err != nil {
					b.Fatalf("%s %s failed: %s", c.Ref(), c.ID, res.JSON)
				}
			}
		})
	}
}

// BenchmarkInvokeRejection measures the calls that end before the handler:
// an input that breaks the schema, and a version that does not exist.
func BenchmarkInvokeRejection(b *testing.B) {
	w := newBenchWorld(b)
	ctx := context.Background()
	p := w.newTenant(b)
	ref := capability.Ref{Name: "projects.create_task", Version: "0.2.0"}
	args := json.RawMessage(`{"project_id":"prj_00000000000000000000000000000000","title":"","budget_usd":1,"labels":["x","x"],"extra":true}`)
	b.Run("invalid_input", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if res := w.inv.Call(ctx, p, ref, args); res.Err == nil || res.Err.Code != capability.CodeInvalidInput {
				b.Fatalf("want invalid_input, got %s", res.JSON)
			}
		}
	})
	b.Run("unknown_version", func(b *testing.B) {
		missing := capability.Ref{Name: "projects.create_task", Version: "9.9.9"}
		b.ReportAllocs()
		for b.Loop() {
			if res := w.inv.Call(ctx, p, missing, args); res.Err == nil {
				b.Fatalf("want a rejection, got %s", res.JSON)
			}
		}
	})
}

// BenchmarkValidate measures the schema work of one call of every
// capability version: validating its decoded input and its decoded output
// (a real answer captured from one call), as the invoker does.
func BenchmarkValidate(b *testing.B) {
	w := newBenchWorld(b)
	ctx := context.Background()
	for _, v := range w.reg.Versions() {
		ref := refOf(v)
		if v.Manifest.Status == capability.StatusRetired {
			b.Run(v.Manifest.Ref(), func(b *testing.B) {
				b.Skip("retired: it only answers upgrade_required and validates nothing")
			})
			continue
		}
		b.Run(v.Manifest.Ref(), func(b *testing.B) {
			p := w.newTenant(b)
			c := w.happyCase(b, v)
			args := w.fixture(b, p, c)
			res := w.inv.Call(ctx, p, ref, args)
			if res.Err != nil {
				b.Fatalf("%s %s failed: %s", c.Ref(), c.ID, res.JSON)
			}
			in, err := schema.Decode(args, schema.MaxDepth)
			if err != nil {
				b.Fatal(err)
			}
			out, err := schema.Decode(res.JSON, 1<<20)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if issues := v.Input.Validate(in); issues != nil {
					b.Fatalf("input: %v", issues)
				}
				if issues := v.Output.Validate(out); issues != nil {
					b.Fatalf("output: %v", issues)
				}
			}
		})
	}
}

// BenchmarkCallLog measures the per-call log line: the same calls with the
// log discarded before any formatting ("none", slog.DiscardHandler), as
// text and as JSON formatted to a discarded writer (the line's CPU cost
// without the write), and with the level above info ("off": the line's
// level check alone). "unknown_version" is the cheapest call the invoker
// answers, so the line's share of it is the largest; "get_task" is a real
// read in a tenant database. cpu-ns/op is the process's CPU time per call,
// steadier than ns/op when other work shares the machine.
func BenchmarkCallLog(b *testing.B) {
	w := newBenchWorld(b)
	ctx := context.Background()
	p := w.newTenant(b)
	v := w.reg.Latest("projects.get_task")
	getTask := w.fixture(b, p, w.happyCase(b, v))
	calls := []struct {
		name string
		ref  capability.Ref
		args json.RawMessage
		ok   bool
	}{
		{"unknown_version", capability.Ref{Name: "projects.get_task", Version: "9.9.9"}, json.RawMessage(`{}`), false},
		{"get_task", refOf(v), getTask, true},
	}
	loggers := []struct {
		name string
		h    slog.Handler
	}{
		{"none", slog.DiscardHandler},
		{"text", slog.NewTextHandler(io.Discard, nil)},
		{"json", slog.NewJSONHandler(io.Discard, nil)},
		{"off", slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelWarn})},
	}
	for _, c := range calls {
		for _, l := range loggers {
			b.Run("call="+c.name+"/log="+l.name, func(b *testing.B) {
				inv := *w.inv
				inv.Logger = slog.New(l.h)
				b.ReportAllocs()
				cpu0, cpuOK := processCPU()
				for b.Loop() {
					if res := inv.Call(ctx, p, c.ref, c.args); (res.Err == nil) != c.ok {
						b.Fatalf("%s: %s", c.name, res.JSON)
					}
				}
				if cpu1, ok := processCPU(); cpuOK && ok {
					b.ReportMetric(float64(cpu1-cpu0)/float64(b.N), "cpu-ns/op")
				}
			})
		}
	}
}
