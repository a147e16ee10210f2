package sqlite

import (
	"regexp"

	"github.com/capd-dev/capd/internal/capability"
)

// slugPattern is what a tenant slug may look like. A slug names a file
// (tenants/<slug>.db), so it is checked before any path is built: no dots,
// slashes or upper case that could escape the directory or collide on a
// case-insensitive file system.
var slugPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{1,62}$`)

// validateSlug returns an invalid_input error saying what a slug may be.
func validateSlug(slug string) error {
	if slugPattern.MatchString(slug) {
		return nil
	}
	return capability.InvalidInput(
		"tenant slug "+quote(slug)+" is not valid: use 2 to 63 lowercase letters, digits and hyphens, starting with a letter or digit",
		capability.Issue{Path: "/slug", Message: "must match " + slugPattern.String(), Keyword: "pattern"},
	)
}

// quote quotes s for a message, shortening it so a hostile megabyte-long
// slug does not end up in logs whole.
func quote(s string) string {
	const max = 80
	if len(s) > max {
		s = s[:max] + "..."
	}
	return `"` + s + `"`
}
