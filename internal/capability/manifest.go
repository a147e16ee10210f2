package capability

import (
	"encoding/json"
	"fmt"
)

// Status is the lifecycle state of one capability version.
type Status string

// Capability version statuses.
const (
	StatusStable     Status = "stable"     // callable, the default resolution target
	StatusDeprecated Status = "deprecated" // still callable, answers with a warning
	StatusRetired    Status = "retired"    // answers upgrade_required
)

// Annotations are the MCP behaviour hints of a capability; manifests state
// all four explicitly so no client falls back to a permissive default.
type Annotations struct {
	ReadOnly    bool `json:"read_only"`
	Destructive bool `json:"destructive"`
	Idempotent  bool `json:"idempotent"`
	OpenWorld   bool `json:"open_world"`
}

// ErrorDoc documents one rejection code a capability can return.
type ErrorDoc struct {
	Meaning string `json:"meaning"`
	Next    string `json:"next"` // what the agent should do next
}

// Limits are a capability's departures from the server's default limits.
type Limits struct {
	// MaxInputBytes is the largest request body a call may send when it
	// must exceed the default body limit; 0 means the default.
	MaxInputBytes int64 `json:"max_input_bytes,omitempty"`
}

// Example is one documented call: an input and the output it produces.
type Example struct {
	Title  string          `json:"title"`
	Input  json.RawMessage `json:"input"`
	Output json.RawMessage `json:"output"`
}

// Manifest is the published contract of one capability version, exactly as
// declared in its file under capabilities/.
type Manifest struct {
	Name        string              `json:"name"`
	Version     string              `json:"version"`
	Scope       Scope               `json:"scope"`
	Status      Status              `json:"status"`
	Title       string              `json:"title"`
	Summary     string              `json:"summary"`
	Semantics   string              `json:"semantics"`
	Invariants  []string            `json:"invariants"`
	WhenToUse   string              `json:"when_to_use"`
	Annotations Annotations         `json:"annotations"`
	Replacement string              `json:"replacement,omitempty"` // what to use instead when deprecated or retired
	Limits      Limits              `json:"limits,omitzero"`
	Input       json.RawMessage     `json:"input_schema"`
	Output      json.RawMessage     `json:"output_schema"`
	Errors      map[string]ErrorDoc `json:"errors"`
	Examples    []Example           `json:"examples"`
}

// Ref returns the manifest's name@version.
func (m *Manifest) Ref() string { return m.Name + "@" + m.Version }

// Ref is a reference to a capability: a bare name or name@version.
type Ref struct {
	Name    string
	Version string // empty: resolve to the latest callable version
}

func (r Ref) String() string {
	if r.Version == "" {
		return r.Name
	}
	return fmt.Sprintf("%s@%s", r.Name, r.Version)
}
