package registry

import (
	"regexp"
	"strconv"
	"strings"
)

var semverRE = regexp.MustCompile(`^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$`)

// IsSemver reports whether v is an exact major.minor.patch version.
func IsSemver(v string) bool { return semverRE.MatchString(v) }

// compareSemver orders two exact versions; both must satisfy IsSemver.
func compareSemver(a, b string) int {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < 3; i++ {
		x, _ := strconv.Atoi(as[i])
		y, _ := strconv.Atoi(bs[i])
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	return 0
}
