package invoke

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/capd-dev/capd/internal/capability"
)

// BenchmarkLogLine measures the per-call log line alone, as the invoker
// writes it for an MCP call (request id, transport, JSON-RPC id, tenant,
// capability, outcome, duration), formatted to a discarded writer; "off"
// is the line below the logger's level. BenchmarkCallLog puts it beside
// whole calls.
func BenchmarkLogLine(b *testing.B) {
	ctx := WithRequest(context.Background(), Request{ID: NewRequestID(), Transport: TransportMCPHTTP, RPCID: float64(42)})
	p := capability.Principal{Tenant: "switchback-engineering", KeyPrefix: "abcdefghijklm", Scopes: capability.AllScopes}
	for _, l := range []struct {
		name string
		h    slog.Handler
	}{
		{"text", slog.NewTextHandler(io.Discard, nil)},
		{"json", slog.NewJSONHandler(io.Discard, nil)},
		{"off", slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelWarn})},
	} {
		b.Run("log="+l.name, func(b *testing.B) {
			inv := &Invoker{Logger: slog.New(l.h)}
			b.ReportAllocs()
			for b.Loop() {
				inv.logCall(ctx, p, "projects.get_task@0.1.0", "ok", 412*time.Microsecond, false)
			}
		})
	}
}
