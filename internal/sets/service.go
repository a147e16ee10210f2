package sets

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/capd-dev/capd/internal/capability"
	"github.com/capd-dev/capd/internal/registry"
)

// Service is where every interface finds, lists and changes sets: the
// tenant's own sets in the store, the built-in ones, and other tenants'
// public ones.
type Service struct {
	Store    capability.SetStore
	Registry *registry.Registry
	BuiltIn  []*capability.CapabilitySet
	Now      func() time.Time
	// Changed is told after a set was updated (set) or deleted (nil), so
	// connected MCP sessions can be notified.
	Changed func(owner, name string, set *capability.CapabilitySet)
}

func (s *Service) builtIn(name string) *capability.CapabilitySet {
	for _, b := range s.BuiltIn {
		if b.Name == name {
			return b
		}
	}
	return nil
}

func notFound(name string) error {
	return capability.Errorf(capability.CodeNotFound, "no capability set %q is visible to this key; GET /api/v1/org/{org}/capability-sets lists them", name)
}

// Find returns the set name as tenant sees it: its own set, else a
// built-in one, else the one public set of another tenant with that name.
func (s *Service) Find(ctx context.Context, tenant, name string) (*capability.CapabilitySet, error) {
	set, err := s.Store.FindSet(ctx, tenant, name)
	if err == nil {
		return set, nil
	}
	if !errors.Is(err, capability.ErrNotFound) {
		return nil, err
	}
	if b := s.builtIn(name); b != nil {
		return b, nil
	}
	public, err := s.Store.FindPublicSets(ctx, name)
	if err != nil {
		return nil, err
	}
	switch len(public) {
	case 0:
		return nil, notFound(name)
	case 1:
		return public[0], nil
	}
	owners := make([]string, len(public))
	for i, p := range public {
		owners[i] = p.Owner
	}
	return nil, capability.Errorf(capability.CodeNotFound, "%q names public sets of several tenants (%v); copy the one you want into your own tenant", name, owners)
}

// List returns the sets tenant can read: built-in ones first, then its own
// and other tenants' public ones, by name; tag filters.
func (s *Service) List(ctx context.Context, tenant, tag string, limit, offset int) ([]*capability.CapabilitySet, error) {
	var out []*capability.CapabilitySet
	for _, b := range s.BuiltIn {
		if tag == "" || contains(b.Tags, tag) {
			out = append(out, b)
		}
	}
	stored, err := s.Store.ListSets(ctx, capability.SetFilter{Owner: tenant, WithPublic: true, Tag: tag, Limit: 500})
	if err != nil {
		return nil, err
	}
	out = append(out, stored...)
	if offset > len(out) {
		offset = len(out)
	}
	out = out[offset:]
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// Create stores a new set of tenant. A built-in set's name is taken.
func (s *Service) Create(ctx context.Context, set *capability.CapabilitySet) error {
	if s.builtIn(set.Name) != nil {
		return capability.Errorf(capability.CodeAlreadyExists, "%q is a built-in set's name; choose another", set.Name)
	}
	now := s.now()
	set.CreatedAt, set.UpdatedAt = now, now
	return s.Store.CreateSet(ctx, set)
}

// Update replaces a set tenant owns; built-in sets cannot change.
func (s *Service) Update(ctx context.Context, tenant string, set *capability.CapabilitySet) error {
	if err := s.owned(ctx, tenant, set.Name); err != nil {
		return err
	}
	set.UpdatedAt = s.now()
	if err := s.Store.UpdateSet(ctx, set); err != nil {
		return err
	}
	if s.Changed != nil {
		s.Changed(tenant, set.Name, set)
	}
	return nil
}

// Delete removes a set tenant owns.
func (s *Service) Delete(ctx context.Context, tenant, name string) error {
	if err := s.owned(ctx, tenant, name); err != nil {
		return err
	}
	if err := s.Store.DeleteSet(ctx, tenant, name); err != nil {
		return err
	}
	if s.Changed != nil {
		s.Changed(tenant, name, nil)
	}
	return nil
}

// owned checks that tenant may change name: it must be tenant's own set.
func (s *Service) owned(ctx context.Context, tenant, name string) error {
	if _, err := s.Store.FindSet(ctx, tenant, name); err == nil {
		return nil
	} else if !errors.Is(err, capability.ErrNotFound) {
		return err
	}
	if s.builtIn(name) != nil {
		return capability.Errorf(capability.CodeForbidden, "%q is a built-in set and cannot be changed; create your own set with the members you want", name)
	}
	if public, err := s.Store.FindPublicSets(ctx, name); err == nil && len(public) > 0 {
		return capability.Errorf(capability.CodeForbidden, "%q is another tenant's public set: readable, not writable", name)
	}
	return notFound(name)
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// Key identifies a set across tenants: "owner/name", or "capd/name" for a
// built-in set.
func Key(set *capability.CapabilitySet) string {
	owner := set.Owner
	if owner == "" {
		owner = "capd"
	}
	return fmt.Sprintf("%s/%s", owner, set.Name)
}

// Containing returns the public sets (built-in ones included) that list
// capability name, for the catalog.
func (s *Service) Containing(ctx context.Context, name string) ([]*capability.CapabilitySet, error) {
	public, err := s.Store.ListSets(ctx, capability.SetFilter{WithPublic: true, Limit: 500})
	if err != nil {
		return nil, err
	}
	var out []*capability.CapabilitySet
	for _, set := range append(append([]*capability.CapabilitySet{}, s.BuiltIn...), public...) {
		for _, m := range set.Members {
			if m.Name == name {
				out = append(out, set)
				break
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}
