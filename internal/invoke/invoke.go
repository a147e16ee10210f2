// Package invoke is the single call path every transport uses: resolve the
// capability version, check the scope, validate the input, run the handler
// in one tenant transaction, validate the output, and record the call.
package invoke

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"slices"
	"time"

	"github.com/capd-dev/capd/internal/capability"
	"github.com/capd-dev/capd/internal/registry"
	"github.com/capd-dev/capd/internal/schema"
)

// Recorder receives one record per call. It must not block the caller.
type Recorder interface {
	Record(capability.CallRecord)
}

// Invoker runs capability calls. Its zero value is not usable; set Registry
// and Tenants.
type Invoker struct {
	Registry *registry.Registry
	Tenants  capability.TenantStores
	Recorder Recorder // nil: calls are not recorded
	Limiter  *Limiter // nil: no rate limits
	Observer Observer // nil: calls are not observed (no metrics)
	Logger   *slog.Logger
	Now      func() time.Time
	MaxDepth int // input nesting limit; 0 means schema.MaxDepth
}

// Result is the outcome of one call. Output is the complete result object
// ("ok" included), JSON its encoding. For a rejection Err is set and Output
// is the envelope {ok:false, error, message, issues, ...details}.
type Result struct {
	Version *registry.Version // nil when the reference did not resolve
	Output  map[string]any
	JSON    []byte
	Err     *capability.Error
	// InContract reports that Output satisfies the version's output schema.
	// Success outputs always do; a rejection does when its code is one the
	// contract declares, and not for codes every call can get (forbidden,
	// upgrade_required, internal...).
	InContract bool
	Warning    string // set when the version is deprecated
	// Replayed reports that the result is the stored first result of the
	// call's idempotency key, not a new execution.
	Replayed bool

	rateLimit string // the bucket that refused the call; see CallEvent
}

// OK reports whether the call succeeded.
func (r *Result) OK() bool { return r.Err == nil }

// Call runs one call of ref with JSON arguments args on behalf of p. Every
// call, whatever its outcome, is recorded (Recorder), observed (Observer)
// and logged on one line at info level, with the request ctx carries
// (WithRequest) or a new request id.
func (inv *Invoker) Call(ctx context.Context, p capability.Principal, ref capability.Ref, args json.RawMessage) *Result {
	start := inv.now()
	if req, ok := RequestFrom(ctx); !ok || req.ID == "" {
		req.ID = NewRequestID()
		ctx = WithRequest(ctx, req)
	}
	res := inv.call(ctx, p, ref, args)
	took := inv.now().Sub(start)
	name := ref.String()
	if res.Version != nil {
		name = res.Version.Manifest.Ref()
	}
	outcome := "ok"
	if res.Err != nil {
		outcome = res.Err.Code
	}
	if inv.Recorder != nil {
		inv.Recorder.Record(capability.CallRecord{
			At: start, Tenant: p.Tenant, KeyPrefix: p.KeyPrefix, Capability: name,
			Outcome: outcome, Duration: took, Replayed: res.Replayed,
		})
	}
	if inv.Observer != nil {
		inv.Observer.ObserveCall(inv.event(p, ref, res, outcome, took))
	}
	inv.logCall(ctx, p, name, outcome, took, res.Replayed)
	return res
}

// event describes a finished call for the Observer. A call refused by a
// rate limit stopped before resolving its reference; it is resolved here
// so the refusal counts against the capability it was meant for.
func (inv *Invoker) event(p capability.Principal, ref capability.Ref, res *Result, outcome string, took time.Duration) CallEvent {
	e := CallEvent{Outcome: outcome, Duration: took, RateLimit: res.rateLimit}
	v := res.Version
	if v == nil && res.rateLimit != "" {
		if ref.Version == "" {
			ref.Version = p.Pins[ref.Name]
		}
		v, _ = inv.Registry.Resolve(ref)
	}
	if v != nil {
		e.Capability, e.Version = v.Manifest.Name, v.Manifest.Version
	}
	return e
}

func (inv *Invoker) call(ctx context.Context, p capability.Principal, ref capability.Ref, args json.RawMessage) *Result {
	if wait, limit := inv.Limiter.Allow(p, inv.now()); limit != "" {
		res := inv.reject(nil, rateLimited(wait))
		res.rateLimit = limit
		return res
	}
	if ref.Version == "" {
		ref.Version = p.Pins[ref.Name] // a key's pin stands in for "latest"
	}
	v, err := inv.Registry.Resolve(ref)
	if err != nil {
		return inv.reject(nil, capability.AsError(err))
	}
	res := &Result{Version: v}
	m := v.Manifest
	if m.Status == capability.StatusDeprecated {
		res.Warning = fmt.Sprintf("%s is deprecated", m.Ref())
		if m.Replacement != "" {
			res.Warning += "; move to " + m.Replacement
		}
	}
	if !p.Allows(m.Scope) {
		return inv.rejectInto(res, capability.Errorf(capability.CodeForbidden,
			"%s requires scope %s; this API key has %s. Use a key created with --scopes %s, or a capability this key can see in tools/list",
			m.Name, m.Scope, scopesOrNone(p.Scopes), m.Scope))
	}
	in, ierr := inv.decodeInput(v, args)
	if ierr != nil {
		return inv.rejectInto(res, ierr)
	}

	store, err := inv.Tenants.Tenant(ctx, p.Tenant)
	if err != nil {
		if errors.Is(err, capability.ErrNotFound) {
			return inv.rejectInto(res, capability.Errorf(capability.CodeUnauthenticated, "tenant %s no longer exists", p.Tenant))
		}
		return inv.rejectInto(res, inv.failure(ctx, v, "open tenant store", err))
	}
	run := store.Update
	key := idempotencyKeyFrom(ctx)
	if m.Annotations.ReadOnly {
		run = store.View
		key = "" // reads repeat safely; nothing to store
	}
	if key != "" {
		if e := checkIdempotencyKey(key); e != nil {
			return inv.rejectInto(res, e)
		}
	}
	var out map[string]any
	var outJSON []byte
	err = run(ctx, func(tx capability.Tx) (err error) {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("handler panic: %v\n%s", r, debug.Stack())
			}
		}()
		var hash string
		if key != "" {
			hash = argsHash(m.Ref(), in)
			prev, err := tx.FindIdempotentResult(ctx, key)
			switch {
			case err == nil && inv.now().Sub(prev.CreatedAt) < capability.IdempotencyWindow:
				if prev.ArgsHash != hash {
					return capability.Errorf(capability.CodeConflict,
						"idempotency key %q was first used with other arguments (or another capability version); use a new key for a new request", key)
				}
				// A retry: answer with the first result, write nothing.
				res.Replayed, outJSON = true, prev.Result
				return json.Unmarshal(prev.Result, &out)
			case err != nil && !errors.Is(err, capability.ErrNotFound):
				return err
			}
		}
		o, err := v.Handler(ctx, &capability.Call{Tenant: p.Tenant, Input: in, Tx: tx, Now: inv.now()})
		if err != nil {
			return err
		}
		// The output is checked before the transaction commits: a result
		// that breaks its own contract is a bug, and its writes must not
		// survive it.
		if o == nil {
			o = map[string]any{}
		}
		o["ok"] = true
		b, err := json.Marshal(o)
		if err != nil {
			return fmt.Errorf("encode output: %w", err)
		}
		if issues := inv.validate(v.Output, b); len(issues) > 0 {
			return fmt.Errorf("output of %s breaks its output schema: %v", m.Ref(), issues)
		}
		if key != "" {
			// Stored in the write's own transaction: the result is kept
			// exactly when the write happened.
			if err := tx.SaveIdempotentResult(ctx, &capability.IdempotentResult{Key: key, Capability: m.Ref(), ArgsHash: hash, Result: b, CreatedAt: inv.now()}); err != nil {
				return err
			}
		}
		out, outJSON = o, b
		return nil
	})
	if err != nil {
		var appErr *capability.Error
		if errors.As(err, &appErr) {
			if !slices.Contains(v.ErrorCodes(), appErr.Code) && !isCrossCutting(appErr.Code) {
				return inv.rejectInto(res, inv.internal(ctx, v, "undeclared rejection code", err))
			}
			return inv.rejectInto(res, appErr)
		}
		return inv.rejectInto(res, inv.failure(ctx, v, "call failed", err))
	}
	res.Output, res.JSON, res.InContract = out, outJSON, true
	return res
}

// decodeInput decodes and validates the arguments; absent arguments mean {}.
func (inv *Invoker) decodeInput(v *registry.Version, args json.RawMessage) (json.RawMessage, *capability.Error) {
	args = bytes.TrimSpace(args)
	if len(args) == 0 || bytes.Equal(args, []byte("null")) {
		args = json.RawMessage("{}")
	}
	depth := inv.MaxDepth
	if depth == 0 {
		depth = schema.MaxDepth
	}
	val, err := schema.Decode(args, depth)
	if err != nil {
		return nil, capability.InvalidInput("arguments are not usable: "+err.Error(), capability.Issue{Path: "", Message: err.Error()})
	}
	if _, ok := val.(map[string]any); !ok {
		return nil, capability.InvalidInput("arguments must be a JSON object", capability.Issue{Path: "", Message: "must be an object", Keyword: "type"})
	}
	if issues := v.Input.Validate(val); len(issues) > 0 {
		return nil, capability.InvalidInput(summarize(v.Manifest.Name, issues), issues...)
	}
	return args, nil
}

func (inv *Invoker) validate(s *schema.Schema, b []byte) []capability.Issue {
	val, err := schema.Decode(b, 1<<20)
	if err != nil {
		return []capability.Issue{{Message: err.Error()}}
	}
	return s.Validate(val)
}

// reject builds the result of a call that did not run.
func (inv *Invoker) reject(v *registry.Version, e *capability.Error) *Result {
	return inv.rejectInto(&Result{Version: v}, e)
}

func (inv *Invoker) rejectInto(res *Result, e *capability.Error) *Result {
	issues := e.Issues
	if issues == nil {
		issues = []capability.Issue{}
	}
	out := map[string]any{"ok": false, "error": e.Code, "message": e.Message, "issues": issues}
	for k, val := range e.Details {
		if _, taken := out[k]; !taken {
			out[k] = val
		}
	}
	b, err := json.Marshal(out)
	if err != nil {
		inv.logger().Error("encode rejection", "err", err)
		b = []byte(`{"ok":false,"error":"internal"}`)
	}
	res.Output, res.JSON, res.Err = out, b, e
	if res.Version != nil && slices.Contains(res.Version.ErrorCodes(), e.Code) {
		if issues := inv.validate(res.Version.Output, b); len(issues) > 0 {
			inv.logger().Error("rejection breaks output schema", "capability", res.Version.Manifest.Ref(), "issues", issues)
		} else {
			res.InContract = true
		}
	}
	return res
}

// failure classifies an error that is not an application error: a call
// whose context ended (the client gave up or timed out) is unavailable and
// worth retrying; a tenant database that cannot grow is storage_full (the
// transaction rolled back); anything else is a server fault.
func (inv *Invoker) failure(ctx context.Context, v *registry.Version, what string, err error) *capability.Error {
	if ctx.Err() != nil {
		return capability.Errorf(capability.CodeUnavailable, "the call was cancelled or timed out before it finished; nothing was written. Retry")
	}
	if isStorageFull(err) {
		inv.logger().Warn(what+": storage full", "request_id", requestID(ctx), "capability", v.Manifest.Ref(), "err", err)
		return capability.Errorf(capability.CodeStorageFull, "the tenant's storage is full; nothing was written. Reads still work; retry once an operator has made room")
	}
	return inv.internal(ctx, v, what, err)
}

// sqliteFull is SQLite's SQLITE_FULL result code: the database reached its
// max_page_count, or the disk is full.
const sqliteFull = 13

// isStorageFull reports whether err carries SQLITE_FULL. The driver's error
// (modernc.org/sqlite's *Error) exposes its result code as Code() int; the
// primary code is the low byte of an extended one.
func isStorageFull(err error) bool {
	var coded interface{ Code() int }
	return errors.As(err, &coded) && coded.Code()&0xff == sqliteFull
}

// internal logs the cause, with the request id that the call's own log
// line and the client's answer carry, and returns an error that reveals
// nothing of it.
func (inv *Invoker) internal(ctx context.Context, v *registry.Version, what string, err error) *capability.Error {
	id := requestID(ctx)
	inv.logger().Error(what, "request_id", id, "capability", v.Manifest.Ref(), "err", err)
	e := capability.AsError(errors.New("internal"))
	if id != "" {
		e.Message += " Request id: " + id + "."
	}
	return e
}

func (inv *Invoker) now() time.Time {
	if inv.Now != nil {
		return inv.Now()
	}
	return time.Now()
}

func (inv *Invoker) logger() *slog.Logger {
	if inv.Logger != nil {
		return inv.Logger
	}
	return slog.Default()
}

// isCrossCutting reports codes any call may get whatever its contract says.
func isCrossCutting(code string) bool {
	switch code {
	case capability.CodeUnavailable, capability.CodeForbidden, capability.CodeUnauthenticated, capability.CodeConflict, capability.CodeRateLimited:
		return true
	}
	return false
}

func scopesOrNone(s []capability.Scope) string {
	if len(s) == 0 {
		return "no scopes"
	}
	return capability.JoinScopes(s)
}

func summarize(name string, issues []capability.Issue) string {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s rejected its input: ", name)
	for i, is := range issues {
		if i > 0 {
			b.WriteString("; ")
		}
		p := is.Path
		if p == "" {
			p = "(input)"
		} else {
			p = p[1:]
		}
		fmt.Fprintf(&b, "%s %s", p, is.Message)
	}
	b.WriteString(". Fix these fields and call again; nothing was written.")
	return b.String()
}
