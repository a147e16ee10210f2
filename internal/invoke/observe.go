package invoke

import (
	"context"
	"log/slog"
	"time"
	"unicode/utf8"

	"github.com/capd-dev/capd/internal/capability"
)

// Observer is told of every finished call, for metrics. ObserveCall runs on
// the call's goroutine after the answer is ready, so it must be quick and
// must not block.
type Observer interface {
	ObserveCall(CallEvent)
}

// CallEvent is one finished call as metrics see it: nothing of the tenant
// or the key, so no series can be labelled with either.
type CallEvent struct {
	// Capability and Version are the resolved capability version; both
	// are empty when the reference resolved to nothing (an unknown name
	// or version), so a client cannot mint label values.
	Capability, Version string
	Outcome             string // "ok" or the error code
	Duration            time.Duration
	// RateLimit names the bucket that refused the call, "key" or
	// "tenant"; empty when no rate limit refused it. A refused call never
	// ran: its Duration is the refusal's.
	RateLimit string
}

// Rate limits, as CallEvent.RateLimit names them.
const (
	LimitKey    = "key"
	LimitTenant = "tenant"
)

// maxLoggedName bounds a capability reference on a log line: an
// unresolved one is whatever the client sent.
const maxLoggedName = 128

// maxLoggedRPCID bounds a JSON-RPC id on a log line; a string id is the
// client's to choose.
const maxLoggedRPCID = 64

// logCall writes the call's one log line: request id, transport, tenant,
// capability@version, outcome and duration. Never arguments, keys or
// tokens. It costs nothing beyond the level check when info is off.
func (inv *Invoker) logCall(ctx context.Context, p capability.Principal, name, outcome string, d time.Duration, replayed bool) {
	l := inv.logger()
	if !l.Enabled(ctx, slog.LevelInfo) {
		return
	}
	req, _ := RequestFrom(ctx)
	attrs := make([]slog.Attr, 0, 8)
	attrs = append(attrs,
		slog.String("request_id", req.ID),
		slog.String("transport", req.Transport),
	)
	if req.RPCID != nil {
		attrs = append(attrs, rpcIDAttr(req.RPCID))
	}
	attrs = append(attrs,
		slog.String("tenant", p.Tenant),
		slog.String("capability", clip(name, maxLoggedName)),
		slog.String("outcome", outcome),
		slog.Float64("duration_ms", float64(d.Microseconds())/1000),
	)
	if replayed {
		attrs = append(attrs, slog.Bool("replayed", true))
	}
	l.LogAttrs(ctx, slog.LevelInfo, "call", attrs...)
}

// rpcIDAttr is the JSON-RPC id as a log attribute, a long string id cut.
func rpcIDAttr(id any) slog.Attr {
	switch v := id.(type) {
	case string:
		return slog.String("jsonrpc_id", clip(v, maxLoggedRPCID))
	case float64:
		return slog.Float64("jsonrpc_id", v)
	case int64:
		return slog.Int64("jsonrpc_id", v)
	case int:
		return slog.Int("jsonrpc_id", v)
	}
	return slog.String("jsonrpc_id", "?")
}

// clip cuts s to at most n bytes, marking the cut.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
