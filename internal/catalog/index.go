package catalog

import (
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/capd-dev/capd/conformance"
	"github.com/capd-dev/capd/internal/capability"
)

// indexView is the data of the home page: every capability by scope,
// filtered by the search query.
type indexView struct {
	Query  string
	Groups []capabilityGroup
	Total  int    // capabilities in the catalog
	Shown  int    // capabilities matching Query
	Budget budget // tools/list of the whole catalog
}

// capabilityGroup is the capabilities of one scope.
type capabilityGroup struct {
	Scope capability.Scope
	Rows  []capabilityRow
}

// capabilityRow is one capability in the list, described by its current
// version.
type capabilityRow struct {
	Name     string
	URL      string
	Title    string
	Version  string
	Versions int
	Status   capability.Status
	Summary  string
	Badge    conformance.Badge
	Search   string // the lower-case text a query matches, for catalog.js
}

func (s *server) handleIndex(w http.ResponseWriter, r *http.Request) {
	latest, err := s.control.LatestConformance(r.Context(), capability.ConformanceFilter{})
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	cells := conformance.Cells(latest)
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	data := indexView{Query: q, Budget: s.budget}
	groups := map[capability.Scope]*capabilityGroup{}
	for _, name := range s.reg.Names() {
		v := s.current(name)
		m := v.Manifest
		data.Total++
		text := s.searchText(m)
		if !matches(q, text) {
			continue
		}
		data.Shown++
		g, ok := groups[m.Scope]
		if !ok {
			g = &capabilityGroup{Scope: m.Scope}
			groups[m.Scope] = g
		}
		g.Rows = append(g.Rows, capabilityRow{
			Name: name, URL: capabilityURL(name, ""), Title: m.Title, Version: m.Version,
			Versions: len(s.reg.VersionsOf(name)), Status: m.Status, Summary: m.Summary,
			Badge: conformance.BadgeFor(cells, name, m.Version), Search: text,
		})
	}
	for _, g := range groups {
		data.Groups = append(data.Groups, *g)
	}
	sort.Slice(data.Groups, func(i, j int) bool { return scopeLess(data.Groups[i].Scope, data.Groups[j].Scope) })
	title := "Capabilities"
	if q != "" {
		title = "“" + q + "” · Capabilities"
	}
	s.render(w, r, http.StatusOK, "index", view{Title: title, Section: "capabilities", Data: data})
}

// scopeLess orders scopes as capability.AllScopes lists them, unknown ones
// after, by name.
func scopeLess(a, b capability.Scope) bool {
	ia, ib := slices.Index(capability.AllScopes, a), slices.Index(capability.AllScopes, b)
	if ia < 0 {
		ia = len(capability.AllScopes)
	}
	if ib < 0 {
		ib = len(capability.AllScopes)
	}
	if ia != ib {
		return ia < ib
	}
	return a < b
}

// searchText is what a search query is matched against: name, title,
// summary, semantics and when to use, lower-cased. Mentions of other
// capabilities ("call projects.create_task first", `list_projects`) are
// left out of the prose: most capabilities point at create_task, and a
// search for create_task should find create_task, not everything that
// refers to it.
func (s *server) searchText(m *capability.Manifest) string {
	prose := identifierPattern.ReplaceAllStringFunc(strings.Join([]string{m.Summary, m.Semantics, m.WhenToUse}, " "), func(word string) string {
		name := word
		if inner, ok := strings.CutPrefix(word, "`"); ok && strings.HasSuffix(inner, "`") {
			// A code span may name a capability by its short title.
			name = s.titles[strings.TrimSuffix(inner, "`")]
		}
		if name != m.Name && len(s.reg.VersionsOf(name)) > 0 {
			return "…"
		}
		return word
	})
	return strings.ToLower(strings.Join([]string{m.Name, m.Title, prose}, " "))
}

// identifierPattern finds words that may name a capability: a full name
// (projects.create_task), or a short title in a code span (`create_task`).
var identifierPattern = regexp.MustCompile("`?[A-Za-z][A-Za-z0-9_]*(?:\\.[A-Za-z][A-Za-z0-9_]*)?`?")

// matches reports whether every whitespace-separated term of q occurs in
// text (already lower-case). catalog.js applies the same rule as you type.
func matches(q, text string) bool {
	for _, term := range strings.Fields(strings.ToLower(q)) {
		if !strings.Contains(text, term) {
			return false
		}
	}
	return true
}
