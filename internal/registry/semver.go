package registry

import (
	"regexp"

	"golang.org/x/mod/semver"
)

// semverRE is MAJOR.MINOR.PATCH with an optional pre-release, no build
// metadata: a pinned reference names exactly one published version.
var semverRE = regexp.MustCompile(`^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-(0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*)(\.(0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*))*)?$`)

// IsSemver reports whether v is an exact version (x.y.z or x.y.z-pre).
func IsSemver(v string) bool { return semverRE.MatchString(v) }

// IsPrerelease reports whether v carries a pre-release suffix; a bare name
// never resolves to such a version.
func IsPrerelease(v string) bool { return semver.Prerelease("v"+v) != "" }

// compareSemver orders two exact versions by semver precedence (a
// pre-release sorts before its release).
func compareSemver(a, b string) int { return semver.Compare("v"+a, "v"+b) }
