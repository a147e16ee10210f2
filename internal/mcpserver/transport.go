package mcpserver

import (
	"context"
	"io"
	"net/http"
	"time"

	"github.com/mark3labs/mcp-go/server"

	"github.com/capd-dev/capd/internal/capability"
)

// HTTPHandler serves MCP over streamable HTTP. It must sit behind capd's
// HTTP guard, which checks Origin, body size and the bearer key and puts the
// principal in the request context.
func (s *Server) HTTPHandler() http.Handler {
	return server.NewStreamableHTTPServer(s.mcp,
		server.WithHTTPContextFunc(func(ctx context.Context, r *http.Request) context.Context {
			if p, ok := capability.PrincipalFrom(r.Context()); ok {
				return capability.WithPrincipal(ctx, p)
			}
			return ctx
		}),
		server.WithSessionIdManager(&optionalSessions{}),
		server.WithSessionIdleTTL(30*time.Minute),
	)
}

// PrincipalFunc returns the caller's principal for one request.
type PrincipalFunc func(context.Context) (capability.Principal, error)

type principalFuncKey struct{}

// ServeStdio serves MCP over in and out until in closes or ctx ends. It asks
// principal for the caller on every request, so a key revoked while a
// desktop client stays connected stops working on its next call.
func (s *Server) ServeStdio(ctx context.Context, principal PrincipalFunc, in io.Reader, out io.Writer) error {
	std := server.NewStdioServer(s.mcp)
	std.SetContextFunc(func(ctx context.Context) context.Context {
		return context.WithValue(ctx, principalFuncKey{}, principal)
	})
	return std.Listen(ctx, in, out)
}

// principal returns the caller: from the per-request function when the
// transport set one, else from the context.
func principal(ctx context.Context) (capability.Principal, error) {
	if f, ok := ctx.Value(principalFuncKey{}).(PrincipalFunc); ok {
		return f(ctx)
	}
	if p, ok := capability.PrincipalFrom(ctx); ok {
		return p, nil
	}
	return capability.Principal{}, capability.Errorf(capability.CodeUnauthenticated, "no API key")
}
