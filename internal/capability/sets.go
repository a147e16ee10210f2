package capability

import (
	"context"
	"time"
)

// SetMember is one reference in a capability set: a bare name (resolves to
// the latest version visible to the caller at use time) or a name pinned
// to an exact version.
type SetMember struct {
	Name    string `json:"name"`
	Version string `json:"version,omitempty"`
	Notes   string `json:"notes,omitempty"`
}

// Ref returns the member as a capability reference.
func (m SetMember) Ref() Ref { return Ref{Name: m.Name, Version: m.Version} }

// CapabilitySet is a named list of capability references an agent connects
// to. Owner is the tenant that owns it; built-in sets have no owner, ship
// with capd and cannot be changed through the API.
type CapabilitySet struct {
	Name        string      `json:"name"`
	Description string      `json:"description"`
	IsPublic    bool        `json:"is_public"`
	Members     []SetMember `json:"members"`
	Source      string      `json:"source"`
	Tags        []string    `json:"tags"`
	Owner       string      `json:"owner"`      // tenant slug; "" for built-in
	CreatedBy   string      `json:"created_by"` // key prefix, "cli", or "capd" for built-in
	CreatedAt   time.Time   `json:"created_at"`
	UpdatedAt   time.Time   `json:"updated_at"`
}

// BuiltIn reports whether the set ships with capd.
func (s *CapabilitySet) BuiltIn() bool { return s.Owner == "" }

// Reasons a set member does not resolve for a caller.
const (
	UnresolvableNotFound        = "not_found"         // no capability of that name
	UnresolvableVersionNotFound = "version_not_found" // the name exists, the pinned version does not
	UnresolvableRetired         = "retired"           // the version is retired
	UnresolvableNotPermitted    = "not_permitted"     // the caller's scopes exclude it
)

// SetFilter selects sets for listing: the owner's own sets, plus public sets
// of other owners when WithPublic is set. Tag filters by one tag.
type SetFilter struct {
	Owner      string
	WithPublic bool
	Tag        string
	Limit      int // <= 0: 50
	Offset     int
}

// SetStore keeps tenant-owned capability sets (in the control database, so
// public sets can be read across tenants).
type SetStore interface {
	// CreateSet stores a new set; CodeAlreadyExists when the owner already
	// has a set with that name.
	CreateSet(ctx context.Context, s *CapabilitySet) error
	// FindSet returns owner's set name; ErrNotFound when there is none.
	FindSet(ctx context.Context, owner, name string) (*CapabilitySet, error)
	// FindPublicSets returns every public set named name, of any owner.
	FindPublicSets(ctx context.Context, name string) ([]*CapabilitySet, error)
	ListSets(ctx context.Context, f SetFilter) ([]*CapabilitySet, error)
	// UpdateSet replaces description, is_public, members, source, tags and
	// updated_at of an existing set; ErrNotFound when there is none.
	UpdateSet(ctx context.Context, s *CapabilitySet) error
	DeleteSet(ctx context.Context, owner, name string) error
}
