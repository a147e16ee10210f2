package mcpserver

import (
	"net/http"
	"sync"

	"github.com/capd-dev/capd/internal/capability"
	"github.com/capd-dev/capd/internal/invoke"
	"github.com/capd-dev/capd/internal/registry"
	"github.com/capd-dev/capd/internal/sets"
)

// SetHub serves capability sets over MCP: one server per set, created on
// first use and kept, so sessions connected to a set hear when it changes.
type SetHub struct {
	inv     *invoke.Invoker
	version string

	mu      sync.Mutex
	servers map[string]*setEntry // by sets.Key
}

type setEntry struct {
	srv  *Server
	http http.Handler
}

// NewSetHub returns an empty hub.
func NewSetHub(inv *invoke.Invoker, version string) *SetHub {
	return &SetHub{inv: inv, version: version, servers: map[string]*setEntry{}}
}

// setTools are the set's resolvable members at their resolved versions,
// whoever asks; each caller's scopes still narrow tools/list and calls.
func (h *SetHub) setTools(set *capability.CapabilitySet) []*registry.Version {
	return sets.Tools(sets.Resolve(h.inv.Registry, set, nil))
}

func (h *SetHub) entry(set *capability.CapabilitySet) *setEntry {
	key := sets.Key(set)
	h.mu.Lock()
	defer h.mu.Unlock()
	e, ok := h.servers[key]
	if !ok {
		srv := NewForSet(h.inv, h.version, key, h.setTools(set))
		e = &setEntry{srv: srv, http: srv.HTTPHandler()}
		h.servers[key] = e
	}
	return e
}

// Handler returns the streamable HTTP handler of set's server.
func (h *SetHub) Handler(set *capability.CapabilitySet) http.Handler { return h.entry(set).http }

// Server returns set's server, for stdio.
func (h *SetHub) Server(set *capability.CapabilitySet) *Server { return h.entry(set).srv }

// Changed updates the server of owner's set name after it changed (set) or
// was deleted (nil: no tools); its sessions get tools/list_changed.
func (h *SetHub) Changed(owner, name string, set *capability.CapabilitySet) {
	key := sets.Key(&capability.CapabilitySet{Owner: owner, Name: name})
	h.mu.Lock()
	e, ok := h.servers[key]
	h.mu.Unlock()
	if !ok {
		return // nobody has connected to it yet
	}
	var tools []*registry.Version
	if set != nil {
		tools = h.setTools(set)
	}
	e.srv.SetTools(tools)
}
