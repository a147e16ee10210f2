// Package tooldef renders a capability version as a tool definition for
// each ecosystem capd speaks to: MCP (tools/list), OpenAI function tools
// and Anthropic tools. The MCP server and the HTTP API both use it, so an
// agent reads the same description whichever way it connects.
package tooldef

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/capd-dev/capd/internal/capability"
	"github.com/capd-dev/capd/internal/registry"
)

// Formats accepted by Render.
const (
	FormatMCP       = "mcp"
	FormatOpenAI    = "openai"
	FormatAnthropic = "anthropic"
)

// MetaVersion is the _meta key that carries a capability version: on a tool
// it says which version the tool is; on tools/call it pins the version.
const MetaVersion = "capd/version"

// Description is the tool description an agent reads to choose a tool:
// summary, semantics, when to use and invariants.
func Description(m *capability.Manifest) string {
	var b strings.Builder
	b.WriteString(m.Summary)
	b.WriteString("\n\n")
	b.WriteString(strings.TrimSpace(m.Semantics))
	b.WriteString("\n\nWhen to use: ")
	b.WriteString(strings.TrimSpace(m.WhenToUse))
	b.WriteString("\n\nInvariants:")
	for _, inv := range m.Invariants {
		b.WriteString("\n- ")
		b.WriteString(inv)
	}
	if m.Status == capability.StatusDeprecated && m.Replacement != "" {
		fmt.Fprintf(&b, "\n\nDeprecated: use %s instead.", m.Replacement)
	}
	return b.String()
}

// Meta is the tool's _meta: version, scope and status.
func Meta(m *capability.Manifest) map[string]any {
	return map[string]any{MetaVersion: m.Version, "capd/scope": string(m.Scope), "capd/status": string(m.Status)}
}

// FunctionName is the capability's name where tool names may not contain
// dots (OpenAI and Anthropic allow ^[a-zA-Z0-9_-]{1,64}$): the dot becomes
// a double underscore, which capd's HTTP tool API also accepts.
func FunctionName(name string) string { return strings.Replace(name, ".", "__", 1) }

// CapabilityName reverses FunctionName; a name with a dot is returned as is.
func CapabilityName(fn string) string {
	if strings.Contains(fn, ".") {
		return fn
	}
	return strings.Replace(fn, "__", ".", 1)
}

// Render returns v's tool definition in format, as a JSON-ready value.
func Render(v *registry.Version, format string) (any, error) {
	m := v.Manifest
	switch format {
	case FormatMCP:
		return map[string]any{
			"name":         m.Name,
			"title":        m.Title,
			"description":  Description(m),
			"inputSchema":  json.RawMessage(v.InputJSON),
			"outputSchema": json.RawMessage(v.OutputCompact),
			"annotations": map[string]any{
				"title": m.Title, "readOnlyHint": m.Annotations.ReadOnly, "destructiveHint": m.Annotations.Destructive,
				"idempotentHint": m.Annotations.Idempotent, "openWorldHint": m.Annotations.OpenWorld,
			},
			"_meta": Meta(m),
		}, nil
	case FormatOpenAI:
		return map[string]any{
			"type": "function",
			"function": map[string]any{
				"name":        FunctionName(m.Name),
				"description": Description(m),
				"parameters":  json.RawMessage(v.InputJSON),
			},
		}, nil
	case FormatAnthropic:
		return map[string]any{
			"name":         FunctionName(m.Name),
			"description":  Description(m),
			"input_schema": json.RawMessage(v.InputJSON),
		}, nil
	}
	return nil, fmt.Errorf("unknown tool format %q; use mcp, openai or anthropic", format)
}

// BytesPerToken is the rough size of a model token used for context
// budgets: four bytes of JSON per token.
const BytesPerToken = 4

// Budget is the size of a tools/list answer an agent's context must hold.
type Budget struct {
	Tools  int
	Bytes  int
	Tokens int // estimated: Bytes / BytesPerToken, rounded up
}

// ListBudget measures the MCP tools/list answer ({"tools": [...]}) for vs.
func ListBudget(vs []*registry.Version) Budget {
	tools := make([]any, 0, len(vs))
	for _, v := range vs {
		t, _ := Render(v, FormatMCP)
		tools = append(tools, t)
	}
	b, _ := json.Marshal(map[string]any{"tools": tools})
	return Budget{Tools: len(vs), Bytes: len(b), Tokens: (len(b) + BytesPerToken - 1) / BytesPerToken}
}
