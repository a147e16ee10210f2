// Package mcpserver adapts the invoker to MCP with mcp-go: one tool per
// capability name at the version a bare name resolves to, over streamable
// HTTP and stdio. Authentication happens before a request reaches it; this
// package reads the principal from the context.
package mcpserver

import (
	"context"
	"encoding/json"
	"slices"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/capd-dev/capd/internal/capability"
	"github.com/capd-dev/capd/internal/invoke"
	"github.com/capd-dev/capd/internal/registry"
	"github.com/capd-dev/capd/internal/tooldef"
)

// MetaVersion is the _meta key that carries a capability version.
const MetaVersion = tooldef.MetaVersion

// MetaDeprecation is the result _meta key of a deprecated version's notice.
const MetaDeprecation = "capd/deprecation"

// Server is capd's MCP server.
type Server struct {
	inv    *invoke.Invoker
	mcp    *server.MCPServer
	scopes map[string]capability.Scope // tool name -> scope
}

// New builds the MCP server for every capability in the invoker's registry.
func New(inv *invoke.Invoker, version string) *Server {
	s := &Server{inv: inv, scopes: map[string]capability.Scope{}}
	hooks := &server.Hooks{}
	// tools/list shows only what the caller's scopes allow. Calls are not
	// filtered the same way on purpose: a call outside the key's scopes
	// reaches the invoker, which answers with the missing scope by name
	// instead of a bare "tool not found".
	hooks.AddAfterListTools(func(ctx context.Context, _ any, _ *mcp.ListToolsRequest, res *mcp.ListToolsResult) {
		p, _ := principal(ctx) // no principal: no scopes, no tools
		res.Tools = slices.DeleteFunc(res.Tools, func(t mcp.Tool) bool { return !p.Allows(s.scopes[t.Name]) })
		// A key that pins a version sees that version's contract under the
		// same tool name, with the version in _meta.
		for i, t := range res.Tools {
			if version, ok := p.Pins[t.Name]; ok {
				if v, err := inv.Registry.Resolve(capability.Ref{Name: t.Name, Version: version}); err == nil {
					res.Tools[i] = Tool(v)
				}
			}
		}
	})
	s.mcp = server.NewMCPServer("capd", version,
		server.WithToolCapabilities(true),
		server.WithHooks(hooks),
		server.WithRecovery(),
		server.WithInstructions("capd publishes versioned business capabilities as tools. Read a tool's description for its semantics and when to use it. A rejected call returns isError with {ok:false, error, message, issues}: the message says what to call next, issues name each offending field."),
	)
	for _, name := range inv.Registry.Names() {
		v := inv.Registry.Latest(name)
		if v == nil {
			continue // every version retired: nothing to offer
		}
		s.scopes[name] = v.Manifest.Scope
		s.mcp.AddTool(Tool(v), s.handle)
	}
	return s
}

// MCP returns the underlying mcp-go server.
func (s *Server) MCP() *server.MCPServer { return s.mcp }

// Tool renders one capability version as an MCP tool definition.
func Tool(v *registry.Version) mcp.Tool {
	m := v.Manifest
	t := mcp.NewToolWithRawSchema(m.Name, tooldef.Description(m), v.InputJSON)
	t.RawOutputSchema = v.OutputJSON
	t.Title = m.Title
	ro, de, id, ow := m.Annotations.ReadOnly, m.Annotations.Destructive, m.Annotations.Idempotent, m.Annotations.OpenWorld
	t.Annotations = mcp.ToolAnnotation{Title: m.Title, ReadOnlyHint: &ro, DestructiveHint: &de, IdempotentHint: &id, OpenWorldHint: &ow}
	t.Meta = &mcp.Meta{AdditionalFields: tooldef.Meta(m)}
	return t
}

func (s *Server) handle(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	p, err := principal(ctx)
	if err != nil {
		e := capability.AsError(err)
		return Result(&invoke.Result{Err: e, JSON: mustJSON(e)}), nil
	}
	ref := capability.Ref{Name: req.Params.Name}
	if req.Params.Meta != nil {
		if v, ok := req.Params.Meta.AdditionalFields[MetaVersion].(string); ok {
			ref.Version = v
		}
	}
	args := req.Params.RawArguments
	if len(args) == 0 && req.Params.Arguments != nil {
		var err error
		if args, err = json.Marshal(req.Params.Arguments); err != nil {
			return nil, err
		}
	}
	if ref.Version != "" {
		parsed, err := registry.ParseRef(ref.String())
		if err != nil {
			return Result(&invoke.Result{Err: capability.AsError(err), JSON: mustJSON(capability.AsError(err))}), nil
		}
		ref = parsed
	}
	return Result(s.inv.Call(ctx, p, ref, args)), nil
}

// Result renders an invoker result as an MCP tool result: structured content
// plus the same JSON as text; a rejection is isError with a first text block
// that tells the agent what to do next.
func Result(r *invoke.Result) *mcp.CallToolResult {
	out := &mcp.CallToolResult{}
	if r.Err != nil {
		out.IsError = true
		out.Content = append(out.Content, mcp.NewTextContent(r.Err.Code+": "+r.Err.Message))
	}
	if r.Warning != "" {
		// A deprecated version still answers; the notice says what to move
		// to, in _meta for clients and in the text for the model.
		out.Content = append(out.Content, mcp.NewTextContent("deprecation notice: "+r.Warning))
		out.Meta = &mcp.Meta{AdditionalFields: map[string]any{MetaDeprecation: r.Warning}}
	}
	out.Content = append(out.Content, mcp.NewTextContent(string(r.JSON)))
	// structuredContent must satisfy the tool's outputSchema; a rejection
	// the contract does not declare (forbidden, upgrade_required...) is
	// sent as text only.
	if r.Err == nil || r.InContract {
		out.StructuredContent = json.RawMessage(r.JSON)
	}
	return out
}

func mustJSON(e *capability.Error) []byte {
	b, _ := json.Marshal(map[string]any{"ok": false, "error": e.Code, "message": e.Message, "issues": []any{}})
	return b
}
