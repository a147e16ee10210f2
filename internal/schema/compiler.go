package schema

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// SharedPrefix is the URI prefix of capd's shared schemas: a manifest refers
// to schemas/task.json as {"$ref": "capd:schemas/task.json"}.
const SharedPrefix = "capd:schemas/"

// Compiler compiles schemas against capd's shared schemas.
type Compiler struct {
	c      *jsonschema.Compiler
	shared map[string]any // $id -> decoded document
}

// NewCompiler returns a compiler that knows every *.json file in shared under
// its $id, which must be SharedPrefix + the file name.
func NewCompiler(shared fs.FS) (*Compiler, error) {
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	// Refuse to fetch anything: every schema capd uses is embedded.
	c.UseLoader(noLoader{})
	out := &Compiler{c: c, shared: map[string]any{}}
	names, err := fs.Glob(shared, "*.json")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	for _, name := range names {
		data, err := fs.ReadFile(shared, name)
		if err != nil {
			return nil, err
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
		if err != nil {
			return nil, fmt.Errorf("schemas/%s: %w", name, err)
		}
		want := SharedPrefix + path.Base(name)
		m, _ := doc.(map[string]any)
		if id, _ := m["$id"].(string); id != want {
			return nil, fmt.Errorf("schemas/%s: $id must be %q, got %q", name, want, id)
		}
		if err := c.AddResource(want, doc); err != nil {
			return nil, fmt.Errorf("schemas/%s: %w", name, err)
		}
		out.shared[want] = doc
	}
	return out, nil
}

// Compile compiles doc, known as url in error messages and $ref resolution.
func (c *Compiler) Compile(url string, doc any) (*Schema, error) {
	doc = normalize(doc)
	if err := c.c.AddResource(url, inlineShared(doc, c.shared)); err != nil {
		return nil, err
	}
	s, err := c.c.Compile(url)
	if err != nil {
		return nil, err
	}
	return &Schema{s: s, doc: doc, allowed: topLevelProperties(doc)}, nil
}

// Bundle returns doc with every shared-schema $ref inlined into $defs, so a
// client can use it without knowing capd's shared schemas.
func (c *Compiler) Bundle(doc any) (json.RawMessage, error) {
	return bundle(normalize(doc), c.shared)
}

// normalize round-trips doc through JSON so numbers are json.Number and maps
// are map[string]any, whatever decoder produced it.
func normalize(doc any) any {
	data, err := json.Marshal(doc)
	if err != nil {
		return doc
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return doc
	}
	return v
}

func topLevelProperties(doc any) []string {
	m, _ := doc.(map[string]any)
	props, _ := m["properties"].(map[string]any)
	names := make([]string, 0, len(props))
	for k := range props {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

type noLoader struct{}

func (noLoader) Load(url string) (any, error) {
	return nil, fmt.Errorf("schema %s is not one of capd's shared schemas (%s*.json); capd never fetches schemas", url, SharedPrefix)
}

// IsShared reports whether ref names a shared schema.
func IsShared(ref string) bool { return strings.HasPrefix(ref, SharedPrefix) }

// CompileShared compiles the shared schema with the given $id.
func (c *Compiler) CompileShared(id string) (*Schema, error) {
	doc, ok := c.shared[id]
	if !ok {
		return nil, fmt.Errorf("no shared schema %s", id)
	}
	s, err := c.c.Compile(id)
	if err != nil {
		return nil, err
	}
	return &Schema{s: s, doc: doc, allowed: topLevelProperties(doc)}, nil
}
