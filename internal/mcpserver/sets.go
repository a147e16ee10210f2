package mcpserver

import (
	"net/http"
	"strings"
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
	servers map[hubKey]*setEntry
}

// hubKey names one server: a set (sets.Key) under one tool-name spelling.
type hubKey struct {
	set   string
	names ToolNames
}

type setEntry struct {
	srv         *Server
	http        http.Handler
	owner, name string
	// tools is the fingerprint of the tools srv serves (toolsKey), so an
	// unchanged set is never re-announced to its sessions.
	tools string
}

// NewSetHub returns an empty hub.
func NewSetHub(inv *invoke.Invoker, version string) *SetHub {
	return &SetHub{inv: inv, version: version, servers: map[hubKey]*setEntry{}}
}

// setTools are the set's resolvable members at their resolved versions,
// whoever asks; each caller's scopes still narrow tools/list and calls.
func (h *SetHub) setTools(set *capability.CapabilitySet) []*registry.Version {
	return sets.Tools(sets.Resolve(h.inv.Registry, set, nil))
}

// toolsKey fingerprints a tool list: name@version of each, in order.
func toolsKey(tools []*registry.Version) string {
	var b strings.Builder
	for _, v := range tools {
		b.WriteString(v.Manifest.Name)
		b.WriteByte('@')
		b.WriteString(v.Manifest.Version)
		b.WriteByte(' ')
	}
	return b.String()
}

// entry returns set's server, creating it on first use, and brings its
// tools up to date with set as read now. The set comes from the store on
// every request, so a change made by another capd process (another node,
// or the sets command) reaches this server at its next request even if
// the change notification never arrived.
func (h *SetHub) entry(set *capability.CapabilitySet, names ToolNames) *setEntry {
	key := hubKey{set: sets.Key(set), names: names}
	tools := h.setTools(set)
	fp := toolsKey(tools)
	h.mu.Lock()
	defer h.mu.Unlock()
	e, ok := h.servers[key]
	if !ok {
		srv := NewForSet(h.inv, h.version, key.set, names, tools)
		e = &setEntry{srv: srv, http: srv.HTTPHandler(), owner: set.Owner, name: set.Name, tools: fp}
		h.servers[key] = e
	} else if e.tools != fp {
		e.tools = fp
		e.srv.SetTools(tools)
	}
	return e
}

// Handler returns the streamable HTTP handler of set's server whose tools
// are named as names says.
func (h *SetHub) Handler(set *capability.CapabilitySet, names ToolNames) http.Handler {
	return h.entry(set, names).http
}

// Server returns set's server whose tools are named as names says, for stdio.
func (h *SetHub) Server(set *capability.CapabilitySet, names ToolNames) *Server {
	return h.entry(set, names).srv
}

// Changed updates the servers of owner's set name (one per tool-name
// spelling in use) after it changed (set) or was deleted (nil: no tools);
// their sessions get tools/list_changed unless the set's tools are the same
// as before. A spelling nobody has connected with has no server to update.
func (h *SetHub) Changed(owner, name string, set *capability.CapabilitySet) {
	key := sets.Key(&capability.CapabilitySet{Owner: owner, Name: name})
	var tools []*registry.Version
	if set != nil {
		tools = h.setTools(set)
	}
	fp := toolsKey(tools)
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, names := range []ToolNames{DottedNames, UnderscoreNames} {
		e, ok := h.servers[hubKey{set: key, names: names}]
		if !ok || e.tools == fp {
			continue
		}
		e.tools = fp
		e.srv.SetTools(tools)
	}
}

// SetRef names one capability set.
type SetRef struct{ Owner, Name string }

// Sets lists every set this hub serves, so a node that may have missed
// change notifications can re-read them all.
func (h *SetHub) Sets() []SetRef {
	h.mu.Lock()
	defer h.mu.Unlock()
	seen := map[SetRef]bool{}
	refs := make([]SetRef, 0, len(h.servers))
	for _, e := range h.servers {
		if ref := (SetRef{Owner: e.owner, Name: e.name}); !seen[ref] {
			seen[ref] = true
			refs = append(refs, ref)
		}
	}
	return refs
}
