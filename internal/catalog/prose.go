package catalog

import (
	"regexp"
	"strings"
)

// span is one piece of manifest prose: plain text or a `code` span, linked
// when it names a capability. Templates render spans one by one, so prose
// gets code formatting and links without any HTML built by hand.
type span struct {
	Text string
	Code bool
	URL  string
}

// capabilityNamePattern finds candidate capability names (domain.name) in
// plain prose; only names the registry knows become links.
var capabilityNamePattern = regexp.MustCompile(`[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*`)

// prose splits text at backticks into plain and code spans and links every
// capability it mentions: a full name anywhere, or a code span holding a
// capability's unique short title (seed 001 writes `list_projects`).
func (s *server) prose(text string) []span {
	parts := strings.Split(text, "`")
	if len(parts)%2 == 0 {
		// An unmatched backtick stays literal text.
		last := len(parts) - 1
		parts[last-1] += "`" + parts[last]
		parts = parts[:last]
	}
	var out []span
	for i, p := range parts {
		if p == "" {
			continue
		}
		if i%2 == 1 {
			out = append(out, span{Text: p, Code: true, URL: s.capabilityURLFor(p)})
			continue
		}
		out = append(out, s.linkNames(p)...)
	}
	return out
}

// linkNames splits plain text around the capability names it mentions.
func (s *server) linkNames(text string) []span {
	var out []span
	last := 0
	for _, m := range capabilityNamePattern.FindAllStringIndex(text, -1) {
		name := text[m[0]:m[1]]
		if len(s.reg.VersionsOf(name)) == 0 {
			continue
		}
		if m[0] > last {
			out = append(out, span{Text: text[last:m[0]]})
		}
		out = append(out, span{Text: name, URL: capabilityURL(name, "")})
		last = m[1]
	}
	if last < len(text) {
		out = append(out, span{Text: text[last:]})
	}
	return out
}

// capabilityURLFor returns the page of the capability that ref names (a
// full name, name@version, or a unique short title), or "".
func (s *server) capabilityURLFor(ref string) string {
	name, version, _ := strings.Cut(ref, "@")
	if vs := s.reg.VersionsOf(name); len(vs) > 0 {
		for _, v := range vs {
			if v.Manifest.Version == version {
				return capabilityURL(name, version)
			}
		}
		return capabilityURL(name, "")
	}
	if version == "" {
		if full, ok := s.titles[ref]; ok {
			return capabilityURL(full, "")
		}
	}
	return ""
}

// shortTitles maps each capability title shared by no other capability to
// its name, so prose can say `list_projects` and still link.
func shortTitles(names []string, title func(string) string) map[string]string {
	count := map[string]int{}
	byTitle := map[string]string{}
	for _, n := range names {
		t := title(n)
		count[t]++
		byTitle[t] = n
	}
	for t, c := range count {
		if c > 1 || t == "" {
			delete(byTitle, t)
		}
	}
	return byTitle
}
