package catalog

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"

	"github.com/capd-dev/capd/internal/registry"
	"github.com/capd-dev/capd/internal/schema"
)

// comparisonView is what changed between two versions of a capability: a
// readable diff of each schema, and the raw line diff for whoever wants it.
type comparisonView struct {
	From   string // version
	To     string // version
	URL    string // the comparison's own page
	Anchor string // its id on the capability page
	Input  schemaDiffView
	Output schemaDiffView
}

// schemaDiffView is the difference of one schema (input or output).
type schemaDiffView struct {
	Changes []schemaChange // to what the schema accepts; empty when nothing
	Docs    []schemaChange // to its titles, descriptions and examples only
	Lines   []diffLine     // unified diff of the schemas as written; nil when equal
}

// docKeywords only document a schema; their changes are listed apart, so
// a new description does not bury a new required field.
var docKeywords = map[string]bool{"title": true, "description": true, "examples": true}

// compareView is the data of the comparison page.
type compareView struct {
	Name   string
	CapURL string
	From   versionRow
	To     versionRow
	comparisonView
	ReverseURL string
	Others     []link // the consecutive comparisons of this capability
}

// compareURL is the page comparing two versions of name.
func compareURL(name, from, to string) string {
	return "/capabilities/" + url.PathEscape(name) + "/diff/" + url.PathEscape(from) + "/" + url.PathEscape(to)
}

// loadSharedSchemas decodes every shared schema file, keyed by the $ref
// that names it (capd:schemas/<file>), for resolving refs in diffs.
func loadSharedSchemas(fsys fs.FS) (map[string]any, error) {
	files, err := fs.Glob(fsys, "*.json")
	if err != nil {
		return nil, err
	}
	shared := make(map[string]any, len(files))
	for _, f := range files {
		raw, err := fs.ReadFile(fsys, f)
		if err != nil {
			return nil, fmt.Errorf("catalog: read schema %s: %w", f, err)
		}
		doc, err := decodeJSON(raw)
		if err != nil {
			return nil, fmt.Errorf("catalog: schema %s: %w", f, err)
		}
		shared[schema.SharedPrefix+f] = doc
	}
	return shared, nil
}

// decodeJSON decodes raw keeping numbers exact, as json.Number.
func decodeJSON(raw []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}

// compareVersions diffs the input and output schemas of two versions of
// one capability.
func (s *server) compareVersions(from, to *registry.Version) (comparisonView, error) {
	a, b := from.Manifest, to.Manifest
	c := comparisonView{
		From: a.Version, To: b.Version, URL: compareURL(a.Name, a.Version, b.Version),
		Anchor: "changes-" + sanitizeID(a.Version) + "-" + sanitizeID(b.Version),
	}
	var err error
	if c.Input, err = s.diffSchema(a.Input, b.Input); err != nil {
		return c, fmt.Errorf("compare %s and %s input schemas: %w", a.Ref(), b.Ref(), err)
	}
	if c.Output, err = s.diffSchema(a.Output, b.Output); err != nil {
		return c, fmt.Errorf("compare %s and %s output schemas: %w", a.Ref(), b.Ref(), err)
	}
	return c, nil
}

func (s *server) diffSchema(before, after json.RawMessage) (schemaDiffView, error) {
	var v schemaDiffView
	a, err := decodeJSON(before)
	if err != nil {
		return v, err
	}
	b, err := decodeJSON(after)
	if err != nil {
		return v, err
	}
	for _, c := range diffSchemas(a, b, s.shared) {
		if docKeywords[c.Keyword] {
			v.Docs = append(v.Docs, c)
		} else {
			v.Changes = append(v.Changes, c)
		}
	}
	var ai, bi bytes.Buffer
	if err := json.Indent(&ai, before, "", "  "); err != nil {
		return v, err
	}
	if err := json.Indent(&bi, after, "", "  "); err != nil {
		return v, err
	}
	v.Lines = unifiedDiff(ai.String(), bi.String())
	return v, nil
}

// handleCompare answers GET /capabilities/{name}/diff/{from}/{to}: any two
// versions of one capability, in either order.
func (s *server) handleCompare(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	versions := s.reg.VersionsOf(name)
	if len(versions) == 0 {
		s.notFound(w, r, "No such capability", fmt.Sprintf("No capability is named %q.", name))
		return
	}
	from, ok := s.versionOrNotFound(w, r, name, r.PathValue("from"))
	if !ok {
		return
	}
	to, ok := s.versionOrNotFound(w, r, name, r.PathValue("to"))
	if !ok {
		return
	}
	c, err := s.compareVersions(from, to)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	current := s.current(name)
	data := compareView{
		Name: name, CapURL: capabilityURL(name, ""),
		From: s.versionRow(from, nil, current), To: s.versionRow(to, nil, current),
		comparisonView: c,
		ReverseURL:     compareURL(name, to.Manifest.Version, from.Manifest.Version),
	}
	for i := len(versions) - 1; i > 0; i-- {
		o, n := versions[i-1].Manifest.Version, versions[i].Manifest.Version
		if o == from.Manifest.Version && n == to.Manifest.Version {
			continue
		}
		data.Others = append(data.Others, link{Text: o + " → " + n, URL: compareURL(name, o, n)})
	}
	title := fmt.Sprintf("%s %s → %s", name, from.Manifest.Version, to.Manifest.Version)
	s.render(w, r, http.StatusOK, "compare", view{Title: title, Section: "capabilities", Data: data})
}
