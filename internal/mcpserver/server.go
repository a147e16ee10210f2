// Package mcpserver adapts the invoker to MCP with mcp-go: one tool per
// capability name at the version a bare name resolves to, over streamable
// HTTP and stdio. Authentication happens before a request reaches it; this
// package reads the principal from the context.
package mcpserver

import (
	"context"
	"encoding/json"
	"slices"
	"sync"

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

// MetaIdempotencyKey is the tools/call _meta key of an idempotency key; a
// result answered from a key's stored first result carries MetaReplayed.
const (
	MetaIdempotencyKey = "capd/idempotency_key"
	MetaReplayed       = "capd/idempotent_replay"
)

// Server is capd's MCP server: either every capability at the version a
// bare name resolves to (key pins apply), or one capability set with each
// member fixed at its resolved version.
type Server struct {
	inv   *invoke.Invoker
	mcp   *server.MCPServer
	names ToolNames

	mu     sync.RWMutex
	scopes map[string]capability.Scope // capability name -> scope
	fixed  map[string]string           // capability name -> version, for a set; nil for the whole registry
}

// New builds the MCP server for every capability in the invoker's registry,
// its tools named as names says.
func New(inv *invoke.Invoker, version string, names ToolNames) *Server {
	s := newServer(inv, version, "capd", names)
	var tools []*registry.Version
	for _, name := range inv.Registry.Names() {
		if v := inv.Registry.Latest(name); v != nil { // every version retired: nothing to offer
			tools = append(tools, v)
		}
	}
	s.setTools(tools, false)
	return s
}

// NewForSet builds an MCP server that offers exactly tools, each at its
// version whatever the caller's key pins say: a set decides its versions.
func NewForSet(inv *invoke.Invoker, version, setName string, names ToolNames, tools []*registry.Version) *Server {
	s := newServer(inv, version, "capd set "+setName, names)
	s.setTools(tools, true)
	return s
}

// SetTools replaces a set server's tools; connected sessions receive
// notifications/tools/list_changed.
func (s *Server) SetTools(tools []*registry.Version) { s.setTools(tools, true) }

func (s *Server) setTools(tools []*registry.Version, fixed bool) {
	entries := make([]server.ServerTool, 0, len(tools))
	scopes := map[string]capability.Scope{}
	var versions map[string]string
	if fixed {
		versions = map[string]string{}
	}
	for _, v := range tools {
		entries = append(entries, server.ServerTool{Tool: s.tool(v), Handler: s.handle})
		scopes[v.Manifest.Name] = v.Manifest.Scope
		if fixed {
			versions[v.Manifest.Name] = v.Manifest.Version
		}
	}
	s.mu.Lock()
	s.scopes, s.fixed = scopes, versions
	s.mu.Unlock()
	s.mcp.SetTools(entries...)
}

func newServer(inv *invoke.Invoker, version, name string, names ToolNames) *Server {
	s := &Server{inv: inv, names: names}
	hooks := &server.Hooks{}
	// tools/list shows only what the caller's scopes allow. Calls are not
	// filtered the same way on purpose: a call outside the key's scopes
	// reaches the invoker, which answers with the missing scope by name
	// instead of a bare "tool not found".
	hooks.AddAfterListTools(func(ctx context.Context, _ any, _ *mcp.ListToolsRequest, res *mcp.ListToolsResult) {
		p, _ := principal(ctx) // no principal: no scopes, no tools
		s.mu.RLock()
		defer s.mu.RUnlock()
		res.Tools = slices.DeleteFunc(res.Tools, func(t mcp.Tool) bool { return !p.Allows(s.scopes[s.names.Capability(t.Name)]) })
		if s.fixed != nil {
			return
		}
		// A key that pins a version sees that version's contract under the
		// same tool name, with the version in _meta.
		for i, t := range res.Tools {
			name := s.names.Capability(t.Name)
			if version, ok := p.Pins[name]; ok {
				if v, err := inv.Registry.Resolve(capability.Ref{Name: name, Version: version}); err == nil {
					res.Tools[i] = s.tool(v)
				}
			}
		}
	})
	hooks.AddOnRequestInitialization(refuseSessionlessSetLevel)
	// A tool handler gets the request but not its JSON-RPC id, which the
	// call's log line carries; the before-call hook gets both. The id is
	// parked in the embedded Request's params: decoding fills
	// CallToolRequest's own Params, which shadow them, so nothing from the
	// wire lands there and a client cannot forge it. The hook runs on the
	// request's copy just before the handler receives it.
	hooks.AddBeforeCallTool(func(_ context.Context, id any, req *mcp.CallToolRequest) {
		req.Request.Params.Meta = &mcp.Meta{ProgressToken: id}
	})
	s.mcp = server.NewMCPServer(name, version,
		server.WithToolCapabilities(true),
		server.WithLogging(), // see logging.go
		server.WithHooks(hooks),
		server.WithRecovery(),
		server.WithInstructions("capd publishes versioned business capabilities as tools. Read a tool's description for its semantics and when to use it. A rejected call returns isError with {ok:false, error, message, issues}: the message says what to call next, issues name each offending field."),
	)
	return s
}

// MCP returns the underlying mcp-go server.
func (s *Server) MCP() *server.MCPServer { return s.mcp }

// Tool renders one capability version as an MCP tool definition under its
// capability name.
func Tool(v *registry.Version) mcp.Tool { return toolNamed(v, DottedNames, nil) }

func (s *Server) tool(v *registry.Version) mcp.Tool { return toolNamed(v, s.names, s.known) }

// known reports whether name is a capability, for ToolNames.Text.
func (s *Server) known(name string) bool { return len(s.inv.Registry.VersionsOf(name)) > 0 }

func toolNamed(v *registry.Version, names ToolNames, known func(string) bool) mcp.Tool {
	m := v.Manifest
	t := mcp.NewToolWithRawSchema(names.Tool(m.Name), names.Text(tooldef.Description(m), known), v.InputJSON)
	t.RawOutputSchema = v.OutputCompact
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
		return s.result(&invoke.Result{Err: e, JSON: mustJSON(e)}), nil
	}
	ref := capability.Ref{Name: s.names.Capability(req.Params.Name)}
	s.mu.RLock()
	fixed, inSet := s.fixed[ref.Name]
	s.mu.RUnlock()
	if inSet {
		ref.Version = fixed
	} else if req.Params.Meta != nil {
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
			return s.result(&invoke.Result{Err: capability.AsError(err), JSON: mustJSON(capability.AsError(err))}), nil
		}
		ref = parsed
	}
	if req.Params.Meta != nil {
		if key, ok := req.Params.Meta.AdditionalFields[MetaIdempotencyKey].(string); ok && key != "" {
			ctx = invoke.WithIdempotencyKey(ctx, key)
		}
	}
	return s.result(s.inv.Call(withRequest(ctx, req), p, ref, args)), nil
}

// result renders r, naming capabilities in capd's own prose (a rejection's
// message and issues, a deprecation notice) as tools, so the next call an
// answer suggests is one the client can make. A success's data is never
// rewritten.
func (s *Server) result(r *invoke.Result) *mcp.CallToolResult {
	if s.names == DottedNames || (r.Err == nil && r.Warning == "") {
		return Result(r)
	}
	c := *r
	c.Warning = s.names.Text(r.Warning, s.known)
	if r.Err != nil {
		e := *r.Err
		e.Message = s.names.Text(e.Message, s.known)
		c.Err = &e
		c.JSON = []byte(s.names.Text(string(r.JSON), s.known))
	}
	return Result(&c)
}

// withRequest adds the transport and the JSON-RPC id to the request ctx
// carries (over HTTP, the request id came with the HTTP request; over
// stdio the invoker makes one up).
func withRequest(ctx context.Context, req mcp.CallToolRequest) context.Context {
	r, _ := invoke.RequestFrom(ctx)
	r.Transport = invoke.TransportMCPHTTP
	if _, stdio := ctx.Value(principalFuncKey{}).(PrincipalFunc); stdio {
		r.Transport = invoke.TransportMCPStdio
	}
	if m := req.Request.Params.Meta; m != nil {
		r.RPCID = m.ProgressToken
	}
	return invoke.WithRequest(ctx, r)
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
	if r.Replayed {
		out.Meta = &mcp.Meta{AdditionalFields: map[string]any{MetaReplayed: true}}
	}
	if r.Warning != "" {
		// A deprecated version still answers; the notice says what to move
		// to, in _meta for clients and in the text for the model.
		out.Content = append(out.Content, mcp.NewTextContent("deprecation notice: "+r.Warning))
		if out.Meta == nil {
			out.Meta = &mcp.Meta{AdditionalFields: map[string]any{}}
		}
		out.Meta.AdditionalFields[MetaDeprecation] = r.Warning
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
