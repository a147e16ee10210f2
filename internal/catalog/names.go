package catalog

import (
	"net/url"
	"strings"

	"github.com/capd-dev/capd/internal/registry"
)

// current returns the version a capability's page shows by default: the
// one a bare name resolves to, or the newest when every version is retired.
// nil for an unknown name.
func (s *server) current(name string) *registry.Version {
	if v := s.reg.Latest(name); v != nil {
		return v
	}
	if vs := s.reg.VersionsOf(name); len(vs) > 0 {
		return vs[len(vs)-1]
	}
	return nil
}

// capabilityURL is the page of name@version, or of name's current version
// when version is empty.
func capabilityURL(name, version string) string {
	u := "/capabilities/" + url.PathEscape(name)
	if version != "" {
		u += "/" + url.PathEscape(version)
	}
	return u
}

// runURL is the page of one conformance run; anchor, if any, names a case
// on it.
func runURL(id, anchor string) string {
	u := "/runs/" + url.PathEscape(id)
	if anchor != "" {
		u += "#" + anchor
	}
	return u
}

// caseAnchor is the id of a case's row on its run page:
// case-<provider>-<capability>@<version>-<case>, with every character
// outside [A-Za-z0-9_.-] replaced by "-". The version is part of the anchor
// because two versions of a capability usually share case ids (happy_path)
// and one run covers both.
func caseAnchor(provider, capabilityName, version, caseID string) string {
	return "case-" + sanitizeID(provider) + "-" + sanitizeID(capabilityName+"@"+version) + "-" + sanitizeID(caseID)
}

func sanitizeID(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '.', r == '-':
			return r
		}
		return '-'
	}, s)
}

// splitRef splits a capability reference after its domain
// ("projects.", "create_task@0.1.0"), where a narrow column may wrap it.
func splitRef(ref string) (head, tail string) {
	if i := strings.IndexByte(ref, '.'); i >= 0 {
		return ref[:i+1], ref[i+1:]
	}
	return "", ref
}
