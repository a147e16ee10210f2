package mcpserver

import "github.com/mark3labs/mcp-go/server"

// optionalSessions issues a session id on initialize, as MCP clients
// expect, but also accepts a request without one, so a one-off call (curl,
// a health probe, a script) needs no handshake. A session is never
// authentication: every request carries and re-checks its own key.
type optionalSessions struct {
	server.StatelessGeneratingSessionIdManager
}

// Validate accepts an absent session id and checks the form of any other.
func (m *optionalSessions) Validate(id string) (bool, error) {
	if id == "" {
		return false, nil
	}
	return m.StatelessGeneratingSessionIdManager.Validate(id)
}
