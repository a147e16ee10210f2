package catalog

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/capd-dev/capd/internal/capability"
	"github.com/capd-dev/capd/internal/sets"
)

// storedSetsLimit is how many stored public sets the catalog reads: the
// most one listing from the store returns.
const storedSetsLimit = 500

// builtInOwner is what the catalog shows as the owner of a set that ships
// with capd.
const builtInOwner = "built-in"

// setsView is the data of /sets: every public set and what each costs an
// agent's context, against the whole catalog.
type setsView struct {
	Catalog budget
	Sets    []setRow
	Limited bool // the store's listing stopped at storedSetsLimit
}

// setRow is one public set, as the list and the set's page describe it.
type setRow struct {
	Name         string
	URL          string // its page; "" when /sets/{name} cannot show it
	Note         string // why there is no URL
	Owner        string // tenant slug, or builtInOwner
	BuiltIn      bool
	Description  string
	Tags         []string
	Members      int
	Unresolvable int
	Budget       budget
}

// setView is the data of one set's page.
type setView struct {
	setRow
	Source    string
	CreatedAt time.Time // zero for built-in sets
	UpdatedAt time.Time
	Rows      []memberRow
	Catalog   budget
	MCPPath   string // where MCP clients connect to the set
	Stdio     string // the command that serves the set over stdio
}

// memberRow is one member of a set and what it resolves to.
type memberRow struct {
	Written string // as the set lists it: name or name@version
	Head    string // Written up to its domain's dot ("projects."), where a narrow column may wrap it
	Tail    string // the rest ("create_task@0.1.0")
	Notes   string
	Version string // the version it resolves to; "" when it does not
	Title   string // that version's title
	Status  capability.Status
	URL     string // that version's page
	Reason  string // why it does not resolve: a capability.Unresolvable* code
	Explain string // the reason in words
}

// containingSet is one public set listing a capability, on its page.
type containingSet struct {
	Name   string
	URL    string
	Owner  string
	Pinned string // the version the set pins, if it pins one
}

func (s *server) handleSets(w http.ResponseWriter, r *http.Request) {
	all, limited, err := s.publicSets(r.Context())
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	data := setsView{Catalog: s.budget, Limited: limited}
	urls := setURLs(all)
	for _, set := range all {
		data.Sets = append(data.Sets, s.setRow(set, urls))
	}
	s.render(w, r, http.StatusOK, "sets", view{Title: "Capability sets", Section: "sets", Data: data})
}

func (s *server) handleSet(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	set, owners, err := s.findPublicSet(r.Context(), name)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	if set == nil {
		msg := fmt.Sprintf("No public capability set is named %q.", name)
		if len(owners) > 1 {
			msg = fmt.Sprintf("%q names public sets of several tenants (%s); the catalog cannot tell which one you mean.", name, strings.Join(owners, ", "))
		}
		s.notFound(w, r, "No such set", msg, link{Text: "All capability sets", URL: "/sets"})
		return
	}
	data := setView{
		setRow: s.setRow(set, map[string]string{sets.Key(set): setURL(set.Name)}),
		Source: set.Source, CreatedAt: set.CreatedAt, UpdatedAt: set.UpdatedAt, Catalog: s.budget,
		MCPPath: "/mcp/sets/" + url.PathEscape(set.Name), Stdio: "capd stdio --set " + set.Name,
	}
	for _, res := range sets.Resolve(s.reg, set, nil) {
		row := memberRow{Written: res.Member.Ref().String(), Notes: res.Member.Notes, Reason: res.Reason, Explain: explainUnresolvable(res)}
		row.Head, row.Tail = splitRef(row.Written)
		if v := res.Version; v != nil {
			m := v.Manifest
			row.Version, row.Status, row.URL = m.Version, m.Status, capabilityURL(m.Name, m.Version)
		}
		data.Rows = append(data.Rows, row)
	}
	s.render(w, r, http.StatusOK, "set", view{Title: set.Name + " · Capability sets", Section: "sets", Data: data})
}

// setRow describes set, resolved without a caller: scopes narrow it further
// for each key, but the catalog has no key to narrow it by.
func (s *server) setRow(set *capability.CapabilitySet, urls map[string]string) setRow {
	resolved := sets.Resolve(s.reg, set, nil)
	row := setRow{
		Name: set.Name, URL: urls[sets.Key(set)], Owner: set.Owner, BuiltIn: set.BuiltIn(),
		Description: set.Description, Tags: set.Tags, Members: len(set.Members),
		Unresolvable: sets.Unresolvable(resolved), Budget: contextBudget(sets.Tools(resolved)),
	}
	if row.BuiltIn {
		row.Owner = builtInOwner
	}
	if row.URL == "" {
		row.Note = fmt.Sprintf("Another public set has this name too, so it has no page here; %s's own keys reach it by name.", set.Owner)
	}
	return row
}

// publicSets returns every public set: the built-in ones, then stored ones
// of every tenant by name and owner. The catalog answers without a key, so
// no tenant's private set is ever among them.
func (s *server) publicSets(ctx context.Context) (all []*capability.CapabilitySet, limited bool, err error) {
	stored, err := s.sets.Store.ListSets(ctx, capability.SetFilter{WithPublic: true, Limit: storedSetsLimit})
	if err != nil {
		return nil, false, fmt.Errorf("list public sets: %w", err)
	}
	all = append(all, s.sets.BuiltIn...)
	for _, set := range stored {
		if set.IsPublic && !set.BuiltIn() {
			all = append(all, set)
		}
	}
	return all, len(stored) == storedSetsLimit, nil
}

// findPublicSet returns the public set /sets/{name} shows: the built-in one,
// else the one stored public set with that name. When there is none it
// returns nil and the owners of the public sets so named, if several.
func (s *server) findPublicSet(ctx context.Context, name string) (*capability.CapabilitySet, []string, error) {
	for _, b := range s.sets.BuiltIn {
		if b.Name == name {
			return b, nil, nil
		}
	}
	public, err := s.sets.Store.FindPublicSets(ctx, name)
	if err != nil {
		return nil, nil, fmt.Errorf("find public set %q: %w", name, err)
	}
	if len(public) == 1 && public[0].IsPublic {
		return public[0], nil, nil
	}
	owners := make([]string, len(public))
	for i, p := range public {
		owners[i] = p.Owner
	}
	return nil, owners, nil
}

// setURLs maps each of all (by sets.Key) to its page, following
// findPublicSet's rule: a stored set has a page only when no built-in set
// and no other stored public set shares its name.
func setURLs(all []*capability.CapabilitySet) map[string]string {
	builtIn, stored := map[string]bool{}, map[string]int{}
	for _, set := range all {
		if set.BuiltIn() {
			builtIn[set.Name] = true
		} else {
			stored[set.Name]++
		}
	}
	urls := map[string]string{}
	for _, set := range all {
		if set.BuiltIn() || (!builtIn[set.Name] && stored[set.Name] == 1) {
			urls[sets.Key(set)] = setURL(set.Name)
		}
	}
	return urls
}

// setURL is the page of the public set name.
func setURL(name string) string { return "/sets/" + url.PathEscape(name) }

// explainUnresolvable says in words why a member does not resolve; "" when
// it does.
func explainUnresolvable(r sets.Resolved) string {
	switch r.Reason {
	case "":
		return ""
	case capability.UnresolvableNotFound:
		return "No capability has this name."
	case capability.UnresolvableVersionNotFound:
		return fmt.Sprintf("%s has no version %s.", r.Member.Name, r.Member.Version)
	case capability.UnresolvableRetired:
		return "Retired: agents can no longer call it."
	case capability.UnresolvableNotPermitted:
		return "The caller's scopes exclude it."
	}
	return r.Reason
}

// containingSets lists the public sets that name capability name, at any
// version, for its page.
func (s *server) containingSets(ctx context.Context, name string) ([]containingSet, error) {
	containing, err := s.sets.Containing(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("sets containing %s: %w", name, err)
	}
	if len(containing) == 0 {
		return nil, nil
	}
	all, _, err := s.publicSets(ctx)
	if err != nil {
		return nil, err
	}
	urls := setURLs(all)
	out := make([]containingSet, 0, len(containing))
	for _, set := range containing {
		if !set.IsPublic {
			continue
		}
		c := containingSet{Name: set.Name, URL: urls[sets.Key(set)], Owner: set.Owner}
		if set.BuiltIn() {
			c.Owner = builtInOwner
		}
		for _, m := range set.Members {
			if m.Name == name {
				c.Pinned = m.Version
				break
			}
		}
		out = append(out, c)
	}
	return out, nil
}
