package mcpserver

import (
	"context"
	"encoding/json"
	"testing"
)

// BenchmarkRefuseSessionlessSetLevel measures what the logging/setLevel
// check adds to every request, against a floor measured in the same run:
// decoding the request's method, which mcp-go does once per request anyway.
// "call" is a tools/call (the check's cheap path), "setLevel" the request
// it inspects.
func BenchmarkRefuseSessionlessSetLevel(b *testing.B) {
	call := json.RawMessage(`{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"projects.create_task","arguments":{"project_id":"prj_0000000000000000000000000000000a","title":"Draft the release notes","priority":"high","due_date":"2026-12-01"}}}`)
	setLevel := json.RawMessage(`{"jsonrpc":"2.0","id":8,"method":"logging/setLevel","params":{"level":"debug"}}`)
	ctx := context.Background()

	b.Run("floor=decode-method", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var m struct {
				Method string `json:"method"`
			}
			if err := json.Unmarshal(call, &m); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("call", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := refuseSessionlessSetLevel(ctx, 7, call); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("setLevel", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := refuseSessionlessSetLevel(ctx, 8, setLevel); err == nil {
				b.Fatal("a sessionless setLevel was accepted")
			}
		}
	})
}
