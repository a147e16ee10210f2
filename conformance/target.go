package conformance

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"

	"github.com/capd-dev/capd/internal/capability"
	"github.com/capd-dev/capd/internal/invoke"
	"github.com/capd-dev/capd/internal/registry"
	"github.com/capd-dev/capd/internal/store/sqlite"
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
// tenant's database, so a run never changes the tenant's live data.
type Local struct {
	inv    *invoke.Invoker
	db     *sqlite.DB
	dir    string
	tenant string
	caller capability.Principal
}

var _ Target = (*Local)(nil)

// NewLocal copies tenant's database from tenants into a temporary data
// directory and returns a target that serves it with reg's handlers.
func NewLocal(ctx context.Context, reg *registry.Registry, tenants *sqlite.Tenants, tenant string) (*Local, error) {
	dir, err := os.MkdirTemp("", "capd-conformance-")
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*Local, error) {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("prepare scratch copy of %s: %w", tenant, err)
	}
	db, err := sqlite.Open(ctx, sqlite.Options{Dir: dir, MaxOpenTenants: 1})
	if err != nil {
		return fail(err)
	}
	if err := db.Control().CreateTenant(ctx, &capability.Tenant{Slug: tenant}); err != nil {
		db.Close()
		return fail(err)
	}
	if err := tenants.CopyTenant(ctx, tenant, filepath.Join(dir, "tenants", tenant+".db")); err != nil {
		db.Close()
		return fail(err)
	}
	return &Local{
		inv:    &invoke.Invoker{Registry: reg, Tenants: db.Tenants(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))},
		db:     db,
		dir:    dir,
		tenant: tenant,
		caller: capability.Principal{Tenant: tenant, KeyPrefix: "conformance", Scopes: capability.AllScopes},
	}, nil
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
func (l *Local) Close() error {
	err := l.db.Close()
	os.RemoveAll(l.dir)
	return err
}

// Remote runs cases through an MCP client against any server that claims
// the contracts: another capd, or another implementation.
type Remote struct {
	name string
	c    *client.Client
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
