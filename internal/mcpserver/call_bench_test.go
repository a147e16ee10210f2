package mcpserver_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/capd-dev/capd/capabilities"
	"github.com/capd-dev/capd/internal/capability"
	"github.com/capd-dev/capd/internal/invoke"
	"github.com/capd-dev/capd/internal/mcpserver"
	"github.com/capd-dev/capd/internal/providers/projectkit"
	"github.com/capd-dev/capd/internal/registry"
	"github.com/capd-dev/capd/internal/store/sqlite"
	"github.com/capd-dev/capd/schemas"
)

// BenchmarkToolsCall measures one tools/call as a transport sends it: the
// JSON-RPC request handled by the MCP server (hooks, the invoker with its
// log line and call record, a read in a SQLite tenant) and the response
// encoded. The log is formatted as in the server, then discarded.
func BenchmarkToolsCall(b *testing.B) {
	ctx := context.Background()
	reg, err := registry.Load(capabilities.FS, schemas.FS)
	if err != nil {
		b.Fatal(err)
	}
	if err := reg.Bind(projectkit.New()); err != nil {
		b.Fatal(err)
	}
	db, err := sqlite.Open(ctx, sqlite.Options{Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	if err := db.Control().CreateTenant(ctx, &capability.Tenant{Slug: "bench"}); err != nil {
		b.Fatal(err)
	}
	inv := &invoke.Invoker{Registry: reg, Tenants: db.Tenants(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	srv := mcpserver.New(inv, "bench", mcpserver.DottedNames)
	p := capability.Principal{Tenant: "bench", KeyPrefix: "benchkey", Scopes: capability.AllScopes}
	pctx := capability.WithPrincipal(ctx, p)
	req := json.RawMessage(`{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"projects.list_projects","arguments":{"limit":5}}}`)
	b.ReportAllocs()
	var out []byte
	for b.Loop() {
		resp := srv.MCP().HandleMessage(pctx, req)
		if out, err = json.Marshal(resp); err != nil {
			b.Fatal(err)
		}
	}
	if !strings.Contains(string(out), `"ok":true`) {
		b.Fatalf("tools/call did not succeed: %.300s", out)
	}
}
