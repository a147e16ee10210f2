package mcpserver

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
)

// capd declares MCP's logging capability, so a client may choose with
// logging/setLevel which log notifications its session wants; mcp-go keeps
// that level per session (per Mcp-Session-Id over HTTP, per process over
// stdio). capd sends no notifications/message today: every call's outcome,
// warnings included, is in its result, where the agent reads it.

// errSetLevelNeedsSession answers logging/setLevel over HTTP without a
// session.
var errSetLevelNeedsSession = errors.New("logging/setLevel needs a session: send initialize first and repeat the Mcp-Session-Id header it returns on every request; a request without a session has no log level of its own")

var setLevelMethod = []byte(mcp.MethodSetLogLevel)

// refuseSessionlessSetLevel refuses logging/setLevel on a request without
// a session id. capd accepts sessionless requests (a one-off curl needs no
// handshake), and mcp-go would file their level under the empty id, one
// level shared by every sessionless caller of every tenant.
func refuseSessionlessSetLevel(ctx context.Context, _ any, message any) error {
	raw, ok := message.(json.RawMessage)
	if !ok || !bytes.Contains(raw, setLevelMethod) { // cheap test first: this runs on every request
		return nil
	}
	var req struct {
		Method string `json:"method"`
		Params struct {
			Meta *mcp.Meta `json:"_meta"`
		} `json:"params"`
	}
	if json.Unmarshal(raw, &req) != nil || req.Method != string(mcp.MethodSetLogLevel) {
		return nil
	}
	// From protocol 2026-07-28 a request carries its own level and
	// logging/setLevel no longer exists; mcp-go says so.
	if mcp.IsModernProtocol(req.Params.Meta.ProtocolVersion()) {
		return nil
	}
	if s := server.ClientSessionFromContext(ctx); s != nil && s.SessionID() != "" {
		return nil
	}
	return errSetLevelNeedsSession
}
