package invoke_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/capd-dev/capd/capabilities"
	"github.com/capd-dev/capd/internal/capability"
	"github.com/capd-dev/capd/internal/invoke"
	"github.com/capd-dev/capd/internal/providers/projectkit"
	"github.com/capd-dev/capd/internal/registry"
	"github.com/capd-dev/capd/internal/schema"
	"github.com/capd-dev/capd/internal/store/sqlite"
	"github.com/capd-dev/capd/schemas"
)

// fuzzWorld is the data FuzzInvoke's tenant starts with. IDs come from a
// counter, so every fuzz worker (a separate process running the same set-up)
// has the same ones and seeds can name them.
type fuzzWorld struct {
	inv                                                      *invoke.Invoker
	reg                                                      *registry.Registry
	logs                                                     *lockedBuffer
	staff, project, task, action, run, artifact              string
	doneTask, spareTask, cancelledAction, finishedRun, other string
}

// counterIDs returns an ID generator that numbers IDs in creation order:
// prefix_ + 32 hex digits, the shape of the real IDs, and monotonic as
// paging requires.
func counterIDs() func(string) string {
	var n atomic.Uint64
	return func(prefix string) string { return fmt.Sprintf("%s_%032x", prefix, n.Add(1)) }
}

func newFuzzWorld(f *testing.F) *fuzzWorld {
	f.Helper()
	ctx := context.Background()
	reg, err := registry.Load(capabilities.FS, schemas.FS)
	if err != nil {
		f.Fatal(err)
	}
	if err := reg.Bind(projectkit.New()); err != nil {
		f.Fatal(err)
	}
	db, err := sqlite.Open(ctx, sqlite.Options{Dir: f.TempDir(), NewID: counterIDs()})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { db.Close() })
	if err := db.Control().CreateTenant(ctx, &capability.Tenant{Slug: tenantA}); err != nil {
		f.Fatal(err)
	}
	w := &fuzzWorld{reg: reg, logs: &lockedBuffer{}}
	w.inv = &invoke.Invoker{Registry: reg, Tenants: db.Tenants(), Logger: slog.New(slog.NewTextHandler(w.logs, nil))}
	store, err := db.Tenants().Tenant(ctx, tenantA)
	if err != nil {
		f.Fatal(err)
	}
	if err := store.Update(ctx, func(tx capability.Tx) error {
		s := &capability.Staff{Name: "Ada Lovelace", Email: "ada@acme.test", Role: "engineer"}
		err := tx.CreateStaff(ctx, s)
		w.staff = s.ID
		return err
	}); err != nil {
		f.Fatal(err)
	}
	call := func(ref string, args map[string]any) map[string]any {
		f.Helper()
		r, err := registry.ParseRef(ref)
		if err != nil {
			f.Fatal(err)
		}
		raw, _ := json.Marshal(args)
		res := w.inv.Call(ctx, principal(tenantA), r, raw)
		if res.Err != nil {
			f.Fatalf("set-up call %s failed: %s", ref, res.JSON)
		}
		return res.Output
	}
	id := func(out map[string]any, path ...string) string {
		var v any = out
		for _, p := range path {
			v = v.(map[string]any)[p]
		}
		return v.(string)
	}
	w.project = id(call("projects.create_project", map[string]any{"name": "Fuzz"}), "project", "project_id")
	w.task = id(call("projects.create_task", map[string]any{"project_id": w.project, "title": "Open task"}), "task_id")
	w.action = id(call("projects.add_task_action", map[string]any{"task_id": w.task, "title": "Step"}), "action", "action_id")
	w.run = id(call("projects.start_task_run", map[string]any{"task_id": w.task}), "run", "run_id")
	w.artifact = id(call("projects.attach_task_run_artifact", map[string]any{"run_id": w.run, "name": "a.txt", "content_type": "text/plain", "content": "hello"}), "artifact", "artifact_id")
	w.doneTask = id(call("projects.create_task", map[string]any{"project_id": w.project, "title": "Done task"}), "task_id")
	for _, to := range []string{"doing", "review", "done"} {
		call("projects.transition_task", map[string]any{"task_id": w.doneTask, "to": to})
	}
	w.spareTask = id(call("projects.create_task", map[string]any{"project_id": w.project, "title": "Spare task"}), "task_id")
	w.cancelledAction = id(call("projects.add_task_action", map[string]any{"task_id": w.task, "title": "Dropped"}), "action", "action_id")
	call("projects.cancel_task_action", map[string]any{"action_id": w.cancelledAction})
	w.finishedRun = id(call("projects.start_task_run", map[string]any{"task_id": w.task}), "run", "run_id")
	call("projects.update_task_run", map[string]any{"run_id": w.finishedRun, "status": "succeeded"})
	w.other = "tsk_ffffffffffffffffffffffffffffffff" // well-formed, never created
	w.logs.take()
	return w
}

// index returns the position of name@version in reg.Versions().
func (w *fuzzWorld) index(f *testing.F, ref string) int {
	for i, v := range w.reg.Versions() {
		if v.Manifest.Ref() == ref {
			return i
		}
	}
	f.Fatalf("no capability version %s", ref)
	return 0
}

// FuzzInvoke calls a capability version (picked by index, modulo the number
// of versions) with arbitrary bytes as its arguments, as a full-scope caller
// of a real SQLite tenant. Whatever the bytes, the invoker must not panic,
// must not answer internal (a handler failure or an output that breaks its
// own schema both surface as internal), and an answer it calls in contract
// must satisfy the version's output schema.
func FuzzInvoke(f *testing.F) {
	w := newFuzzWorld(f)
	seed := func(ref, args string) { f.Add([]byte(args), w.index(f, ref)) }
	q := func(s string) string { b, _ := json.Marshal(s); return string(b) }

	seed("projects.create_project@0.1.0", `{"name":"Roadmap","description":"Q3"}`)
	seed("projects.create_project@0.1.0", `{"name":"Fuzz"}`) // already exists
	seed("projects.create_project@0.1.0", `{"name":"   "}`)
	seed("projects.create_task@0.1.0", `{"project_id":`+q(w.project)+`,"title":"t","due_date":"2026-02-30","priority":"high"}`)
	seed("projects.create_task@0.2.0", `{"project_id":`+q(w.project)+`,"title":"Budgeted","budget_usd":151.5,"category":"engineering","task_type":"bug_fix","requirements":{"a":[1,{"b":null}]},"labels":["x","y"],"assignee_id":`+q(w.staff)+`,"expires_at":"2999-01-01T00:00:00Z"}`)
	seed("projects.create_task@0.2.0", `{"project_id":`+q(w.project)+`,"title":"t","budget_usd":2.99,"labels":["x","x"],"category":"engineering"}`)
	seed("projects.create_task@0.2.0", `{"project_id":"prj_00000000000000000000000000000000","title":"orphan"}`)
	seed("projects.get_task@0.1.0", `{"task_id":`+q(w.task)+`}`)
	seed("projects.get_task@0.1.0", `{"task_id":`+q(w.other)+`}`)
	seed("projects.list_tasks@0.1.0", `{"project_id":`+q(w.project)+`,"status":"todo","limit":1,"due_before":"2030-01-01","query":"%_"}`)
	seed("projects.list_tasks@0.1.0", `{"cursor":"not-a-cursor","limit":0}`)
	seed("projects.transition_task@0.1.0", `{"task_id":`+q(w.doneTask)+`,"to":"doing"}`)
	seed("projects.update_task@0.1.0", `{"task_id":`+q(w.task)+`,"priority":null,"due_date":null,"assignee_id":null}`)
	seed("projects.update_task_action@0.1.0", `{"action_id":`+q(w.cancelledAction)+`,"state":"done"}`)
	seed("projects.append_task_run_log@0.1.0", `{"run_id":`+q(w.run)+`,"entries":[{"level":"info","message":"hi","at":"2026-01-01T00:00:00Z"},{"level":"error","message":""}]}`)
	seed("projects.append_task_run_log@0.1.0", `{"run_id":`+q(w.finishedRun)+`,"entries":[{"level":"info","message":"late"}]}`)
	seed("projects.attach_task_run_artifact@0.1.0", `{"run_id":`+q(w.run)+`,"name":"b.bin","content_type":"application/octet-stream","content":"AAEC/w==","encoding":"base64"}`)
	seed("projects.attach_task_run_artifact@0.1.0", `{"run_id":`+q(w.run)+`,"name":"b.bin","content_type":"application/octet-stream","content":"!!notbase64","encoding":"base64"}`)
	seed("projects.get_task_run_artifact@0.1.0", `{"artifact_id":`+q(w.artifact)+`}`)
	seed("projects.get_task_run@0.1.0", `{"run_id":`+q(w.run)+`,"after_seq":-1,"limit":1000}`)
	seed("projects.cancel_task@0.1.0", `{"task_id":`+q(w.spareTask)+`,"reason":"no longer needed"}`)
	seed("projects.update_task_run@0.1.0", `{"run_id":`+q(w.run)+`,"output":{"k":"v"},"state":{"n":1},"stage":"x"}`)
	seed("projects.list_projects@0.1.0", ``)
	seed("projects.list_projects@0.1.0", `null`)
	seed("projects.list_staff@0.1.0", `[]`)
	seed("projects.list_task_types@0.1.0", `"engineering"`)
	seed("projects.get_project@0.1.0", `{"project_id":`+q(w.project)+`} trailing`)
	seed("projects.get_project@0.1.0", `{"project_id":1e999}`)
	seed("projects.list_task_actions@0.1.0", strings.Repeat(`{"a":`, 100)+`1`+strings.Repeat(`}`, 100))
	seed("projects.list_task_runs@0.1.0", "{\"task_id\":\"\xff\xfe\"}")

	f.Fuzz(func(t *testing.T, args []byte, index int) {
		versions := w.reg.Versions()
		v := versions[((index%len(versions))+len(versions))%len(versions)]
		ref := capability.Ref{Name: v.Manifest.Name, Version: v.Manifest.Version}
		res := w.inv.Call(context.Background(), principal(tenantA), ref, args)
		logs := w.logs.take()
		if res == nil {
			t.Fatalf("%s: nil result", ref)
		}
		if res.Err != nil && res.Err.Code == capability.CodeInternal {
			t.Fatalf("%s answered internal for %q\nlog:\n%s", ref, args, logs)
		}
		if res.Err == nil && !res.InContract {
			t.Fatalf("%s succeeded out of contract for %q: %s", ref, args, res.JSON)
		}
		if !json.Valid(res.JSON) {
			t.Fatalf("%s answered invalid JSON for %q: %q", ref, args, res.JSON)
		}
		if res.InContract {
			if res.Version == nil {
				t.Fatalf("%s: in contract without a version", ref)
			}
			val, err := schema.Decode(res.JSON, 1<<16)
			if err != nil {
				t.Fatalf("%s: %v: %s", ref, err, res.JSON)
			}
			if issues := res.Version.Output.Validate(val); len(issues) > 0 {
				t.Fatalf("%s answer for %q breaks its output schema: %v\n%s", ref, args, issues, res.JSON)
			}
		}
	})
}
