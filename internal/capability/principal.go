package capability

import (
	"context"
	"slices"
	"strings"
	"time"
)

// Scope is a capability group an API key may be granted.
type Scope string

// The scopes capd knows. Every capability belongs to exactly one.
const (
	ScopeProjectsRead  Scope = "projects.read"
	ScopeProjectsWrite Scope = "projects.write"
)

// AllScopes lists every scope, in the order they are shown.
var AllScopes = []Scope{ScopeProjectsRead, ScopeProjectsWrite}

// ParseScopes parses a comma-separated scope list, rejecting unknown names.
func ParseScopes(s string) ([]Scope, error) {
	var out []Scope
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		if !slices.Contains(AllScopes, Scope(part)) {
			return nil, Errorf(CodeInvalidInput, "unknown scope %q; known scopes are %s", part, JoinScopes(AllScopes))
		}
		if !slices.Contains(out, Scope(part)) {
			out = append(out, Scope(part))
		}
	}
	if len(out) == 0 {
		return nil, Errorf(CodeInvalidInput, "no scopes given; known scopes are %s", JoinScopes(AllScopes))
	}
	slices.Sort(out)
	return out, nil
}

// JoinScopes renders scopes as a comma-separated list.
func JoinScopes(scopes []Scope) string {
	parts := make([]string, len(scopes))
	for i, s := range scopes {
		parts[i] = string(s)
	}
	return strings.Join(parts, ",")
}

// Principal is who is calling: one tenant, through one key, with its scopes.
type Principal struct {
	Tenant    string // tenant slug
	KeyPrefix string // public prefix of the API key; "local" for stdio --tenant
	Scopes    []Scope
	ExpiresAt time.Time // zero: never
	// Pins fixes the version a bare capability name resolves to for this
	// key (name -> exact version), so an agent's tools do not move under it.
	Pins map[string]string
}

// Allows reports whether the principal holds scope s.
func (p Principal) Allows(s Scope) bool { return slices.Contains(p.Scopes, s) }

type principalKey struct{}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns the principal in ctx, if any.
func PrincipalFrom(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}
