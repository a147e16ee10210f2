// Package bench is capd's load tool: it drives concurrent MCP clients over
// streamable HTTP against a capd server with a configurable mix of
// capabilities over many tenants, in a closed loop (throughput) or at a
// fixed arrival rate (latency, without coordinated omission), and measures
// two floors in the same run — a bare mcp-go server with a no-op tool over
// the same transport and client settings, and a raw SQLite insert loop with
// the store's own pragmas — so every figure can be read as a ratio against
// what the machine does without capd.
package bench
