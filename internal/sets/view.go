package sets

import (
	"time"

	"github.com/capd-dev/capd/internal/capability"
	"github.com/capd-dev/capd/internal/registry"
)

// MemberView is a member as reads show it: resolved for the caller, or
// with the reason it does not resolve.
type MemberView struct {
	Name               string `json:"name"`
	Version            string `json:"version,omitempty"`
	Notes              string `json:"notes,omitempty"`
	ResolvedVersion    string `json:"resolved_version,omitempty"`
	UnresolvableReason string `json:"unresolvable_reason,omitempty"`
}

// View is the full detail of a set for one caller, as the HTTP API and
// the CLI render it.
type View struct {
	Name              string       `json:"name"`
	Description       string       `json:"description"`
	IsPublic          bool         `json:"is_public"`
	BuiltIn           bool         `json:"built_in"`
	Owner             string       `json:"owner"`
	Source            string       `json:"source"`
	Tags              []string     `json:"tags"`
	Members           []MemberView `json:"members"`
	UnresolvableCount int          `json:"unresolvable_count"`
	CreatedBy         string       `json:"created_by"`
	CreatedAt         *time.Time   `json:"created_at"`
	UpdatedAt         *time.Time   `json:"updated_at"`
}

// NewView resolves set for caller p and renders it.
func NewView(reg *registry.Registry, set *capability.CapabilitySet, p *capability.Principal) View {
	rs := Resolve(reg, set, p)
	out := View{Name: set.Name, Description: set.Description, IsPublic: set.IsPublic, BuiltIn: set.BuiltIn(), Owner: set.Owner,
		Source: set.Source, Tags: set.Tags, Members: []MemberView{}, UnresolvableCount: Unresolvable(rs), CreatedBy: set.CreatedBy}
	if out.Tags == nil {
		out.Tags = []string{}
	}
	if !set.CreatedAt.IsZero() {
		c, u := set.CreatedAt.UTC(), set.UpdatedAt.UTC()
		out.CreatedAt, out.UpdatedAt = &c, &u
	}
	for _, r := range rs {
		m := MemberView{Name: r.Member.Name, Version: r.Member.Version, Notes: r.Member.Notes, UnresolvableReason: r.Reason}
		if r.Version != nil {
			m.ResolvedVersion = r.Version.Manifest.Version
		}
		out.Members = append(out.Members, m)
	}
	return out
}
