package mcpserver_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"testing"

	"github.com/capd-dev/capd/capabilities"
	"github.com/capd-dev/capd/internal/capability"
	"github.com/capd-dev/capd/internal/invoke"
	"github.com/capd-dev/capd/internal/mcpserver"
	"github.com/capd-dev/capd/internal/providers/projectkit"
	"github.com/capd-dev/capd/internal/registry"
	"github.com/capd-dev/capd/internal/sets"
	"github.com/capd-dev/capd/schemas"
)

var toolsListRequest = json.RawMessage(`{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{}}`)

// BenchmarkToolsList measures one tools/list answer as a transport sends it:
// the request handled by the MCP server (the caller's scopes filter the
// tools) and the response encoded. "catalog" is the server of every
// capability; "pinned" the same with a key that pins an older version;
// "set=<name>" the server of each built-in capability set.
func BenchmarkToolsList(b *testing.B) {
	reg, err := registry.Load(capabilities.FS, schemas.FS)
	if err != nil {
		b.Fatal(err)
	}
	if err := reg.Bind(projectkit.New()); err != nil {
		b.Fatal(err)
	}
	inv := &invoke.Invoker{Registry: reg, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	all := capability.Principal{Tenant: "bench", KeyPrefix: "capd_bench", Scopes: capability.AllScopes}

	run := func(b *testing.B, srv *mcpserver.Server, p capability.Principal, want int) {
		ctx := capability.WithPrincipal(context.Background(), p)
		b.ReportAllocs()
		var size int
		for b.Loop() {
			resp := srv.MCP().HandleMessage(ctx, toolsListRequest)
			out, err := json.Marshal(resp)
			if err != nil {
				b.Fatal(err)
			}
			size = len(out)
		}
		// The answer a client decodes must list every tool the caller may see.
		var answer struct {
			Result struct {
				Tools []json.RawMessage `json:"tools"`
			} `json:"result"`
		}
		out, err := json.Marshal(srv.MCP().HandleMessage(ctx, toolsListRequest))
		if err != nil {
			b.Fatal(err)
		}
		if err := json.Unmarshal(out, &answer); err != nil || len(answer.Result.Tools) != want {
			b.Fatalf("tools/list answered %d tools (%v), want %d: %.300s", len(answer.Result.Tools), err, want, out)
		}
		b.ReportMetric(float64(size), "bytes/answer")
	}

	b.Run("catalog", func(b *testing.B) {
		srv := mcpserver.New(inv, "bench", mcpserver.DottedNames)
		run(b, srv, all, len(reg.Names()))
	})
	b.Run("pinned", func(b *testing.B) {
		srv := mcpserver.New(inv, "bench", mcpserver.DottedNames)
		p := all
		p.Pins = map[string]string{"projects.create_task": "0.1.0"}
		run(b, srv, p, len(reg.Names()))
	})
	builtIn, err := sets.LoadBuiltIn(capabilities.FS, reg)
	if err != nil {
		b.Fatal(err)
	}
	for _, set := range builtIn {
		b.Run("set="+set.Name, func(b *testing.B) {
			tools := sets.Tools(sets.Resolve(reg, set, nil))
			srv := mcpserver.NewForSet(inv, "bench", set.Name, mcpserver.DottedNames, tools)
			run(b, srv, all, len(tools))
		})
	}
}
