package storecore

import (
	"fmt"
	"regexp"
	"slices"

	"github.com/capd-dev/capd/internal/capability"
)

// slugPattern is what a tenant slug may look like. A slug names a file
// (tenants/<slug>.db) or a schema (tenant_<slug>), so it is checked before
// any path or identifier is built: no dots, slashes or upper case that
// could escape a directory or collide on a case-insensitive file system.
var slugPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{1,62}$`)

// ValidateSlug returns an invalid_input error saying what a slug may be.
func ValidateSlug(slug string) error {
	if slugPattern.MatchString(slug) {
		return nil
	}
	return capability.InvalidInput(
		"tenant slug "+Quote(slug)+" is not valid: use 2 to 63 lowercase letters, digits and hyphens, starting with a letter or digit",
		capability.Issue{Path: "/slug", Message: "must match " + slugPattern.String(), Keyword: "pattern"},
	)
}

// SetNamePattern is what a set name may look like; the stores' tables
// check the same rule, so a row written around a store cannot break it.
var SetNamePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

// ValidateSetName returns an invalid_input error saying what a set name
// may be.
func ValidateSetName(name string) error {
	if SetNamePattern.MatchString(name) {
		return nil
	}
	return capability.InvalidInput(
		"set name "+Quote(name)+" is not valid: use 1 to 63 lowercase letters, digits and hyphens, starting with a letter or digit",
		capability.Issue{Path: "/name", Message: "must match " + SetNamePattern.String(), Keyword: "pattern"},
	)
}

// NormalizeScopes checks that scopes is non-empty and known and returns it
// sorted without duplicates, the form ParseScopes produces.
func NormalizeScopes(scopes []capability.Scope) ([]capability.Scope, error) {
	if len(scopes) == 0 {
		return nil, capability.InvalidInput("a key needs at least one scope; known scopes are "+capability.JoinScopes(capability.AllScopes),
			capability.Issue{Path: "/scopes", Message: "must not be empty"})
	}
	for _, s := range scopes {
		if !slices.Contains(capability.AllScopes, s) {
			return nil, capability.InvalidInput(fmt.Sprintf("unknown scope %q; known scopes are %s", s, capability.JoinScopes(capability.AllScopes)),
				capability.Issue{Path: "/scopes", Message: "unknown scope " + string(s)})
		}
	}
	out := slices.Clone(scopes)
	slices.Sort(out)
	return slices.Compact(out), nil
}

// Quote quotes s for a message, shortening it so a hostile megabyte-long
// value does not end up in logs whole.
func Quote(s string) string {
	const max = 80
	if len(s) > max {
		s = s[:max] + "..."
	}
	return `"` + s + `"`
}
