package conformance

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"

	"github.com/capd-dev/capd/internal/capability"
	"github.com/capd-dev/capd/internal/invoke"
	"github.com/capd-dev/capd/internal/registry"
)

// Response is a provider's answer to one call, as a client sees it.
type Response struct {
	IsError bool
	Output  map[string]any // the JSON result object; nil if there was none
	Text    string         // the raw JSON text, for messages
}

// Target is a provider instance the cases run against. Call returns an
// error only when the call could not be made at all (transport failure);
// a rejection is a Response with IsError set.
type Target interface {
	// Instance names the provider instance that serves v, as results
	// record it: "projectkit:<tenant>" locally, the given name remotely.
	Instance(v *registry.Version) string
	Call(ctx context.Context, ref string, args json.RawMessage) (*Response, error)
	Close() error
}

// Local runs cases through capd's own invoker on a scratch copy of one
// tenant's data, so a run never changes the tenant's live data.
type Local struct {
	inv     *invoke.Invoker
	discard func() error
	tenant  string
	caller  capability.Principal
}

var _ Target = (*Local)(nil)

// NewLocal takes a scratch copy of tenant from stores and returns a target
// that serves it with reg's handlers. How the copy is made is the store's
// business: SQLite copies the tenant's file, PostgreSQL works inside a
// transaction it rolls back.
func NewLocal(ctx context.Context, reg *registry.Registry, stores capability.ScratchStores, tenant string) (*Local, error) {
	store, discard, err := stores.Scratch(ctx, tenant)
	if err != nil {
		return nil, fmt.Errorf("prepare scratch copy of %s: %w", tenant, err)
	}
	return &Local{
		inv:     &invoke.Invoker{Registry: reg, Tenants: oneTenant{slug: tenant, store: store}, Logger: slog.New(slog.DiscardHandler)},
		discard: discard,
		tenant:  tenant,
		caller:  capability.Principal{Tenant: tenant, KeyPrefix: "conformance", Scopes: capability.AllScopes},
	}, nil
}

// oneTenant serves a single tenant's store as capability.TenantStores.
type oneTenant struct {
	slug  string
	store capability.TenantStore
}

func (o oneTenant) Tenant(_ context.Context, slug string) (capability.TenantStore, error) {
	if slug != o.slug {
		return nil, capability.ErrNotFound
	}
	return o.store, nil
}

// Instance implements Target: the provider bound to v, on this tenant.
func (l *Local) Instance(v *registry.Version) string { return v.Provider + ":" + l.tenant }

// Call implements Target through the same invoker every transport uses.
func (l *Local) Call(ctx context.Context, ref string, args json.RawMessage) (*Response, error) {
	r, err := registry.ParseRef(ref)
	if err != nil {
		return nil, err
	}
	res := l.inv.Call(ctx, l.caller, r, args)
	return decodeResponse(res.Err != nil, res.JSON), nil
}

// Close discards the scratch copy.
func (l *Local) Close() error { return l.discard() }

// Remote runs cases through an MCP client against any server that claims
// the contracts: another capd, or another implementation.
type Remote struct {
	name string
	c    *client.Client
	// ToolName, when set, gives the tool name the server uses for a
	// capability name (e.g. projects_create_task for a server that cannot
	// take dots); by default they are the same.
	ToolName func(capability string) string
}

var _ Target = (*Remote)(nil)

// NewRemote connects to the streamable HTTP endpoint url with apiKey as a
// bearer token; provider names the instance in results.
func NewRemote(ctx context.Context, url, apiKey, provider string) (*Remote, error) {
	headers := map[string]string{}
	if apiKey != "" {
		headers["Authorization"] = "Bearer " + apiKey
	}
	c, err := client.NewStreamableHttpClient(url, transport.WithHTTPHeaders(headers), transport.WithHTTPTimeout(60*time.Second))
	if err != nil {
		return nil, err
	}
	if err := c.Start(ctx); err != nil {
		return nil, fmt.Errorf("connect to %s: %w", url, err)
	}
	req := mcp.InitializeRequest{}
	req.Params.ProtocolVersion = mcp.LATEST_PROTOCOL_VERSION
	req.Params.ClientInfo = mcp.Implementation{Name: "capd-conformance", Version: "1"}
	if _, err := c.Initialize(ctx, req); err != nil {
		c.Close()
		return nil, fmt.Errorf("initialize %s: %w", url, err)
	}
	return &Remote{name: provider, c: c}, nil
}

// Instance implements Target: the name given for the remote provider.
func (r *Remote) Instance(*registry.Version) string { return r.name }

// Call implements Target with tools/call. The version under test is pinned
// through _meta; a server that ignores it answers with its own version,
// and the contract checks tell.
func (r *Remote) Call(ctx context.Context, ref string, args json.RawMessage) (*Response, error) {
	parsed, err := registry.ParseRef(ref)
	if err != nil {
		return nil, err
	}
	req := mcp.CallToolRequest{}
	req.Params.Name = parsed.Name
	if r.ToolName != nil {
		req.Params.Name = r.ToolName(parsed.Name)
	}
	req.Params.Arguments = json.RawMessage(args)
	if parsed.Version != "" {
		req.Params.Meta = &mcp.Meta{AdditionalFields: map[string]any{"capd/version": parsed.Version}}
	}
	res, err := r.c.CallTool(ctx, req)
	if err != nil {
		return nil, err
	}
	var raw []byte
	if res.StructuredContent != nil {
		raw, _ = json.Marshal(res.StructuredContent)
	} else if len(res.Content) > 0 {
		if t, ok := res.Content[len(res.Content)-1].(mcp.TextContent); ok {
			raw = []byte(t.Text)
		}
	}
	return decodeResponse(res.IsError, raw), nil
}

// Close ends the MCP session.
func (r *Remote) Close() error { return r.c.Close() }

func decodeResponse(isError bool, raw []byte) *Response {
	resp := &Response{IsError: isError, Text: string(raw)}
	var out map[string]any
	if json.Unmarshal(raw, &out) == nil {
		resp.Output = out
	}
	return resp
}
