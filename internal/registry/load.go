package registry

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"regexp"
	"sort"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"go.yaml.in/yaml/v3"

	"github.com/capd-dev/capd/internal/capability"
	"github.com/capd-dev/capd/internal/schema"
)

// CasesSuffix ends the name of a conformance cases file, which sits beside
// its manifest: capabilities/<name>/<version>.cases.yaml.
const CasesSuffix = ".cases.yaml"

// manifestSchemaID is the $id of the schema every manifest must satisfy.
const manifestSchemaID = schema.SharedPrefix + "manifest.schema.json"

// toolNameRE is the MCP tool-name rule; a capability name is its tool name.
var toolNameRE = regexp.MustCompile(`^[A-Za-z0-9._-]{1,128}$`)

// Load reads every manifest (<name>/<version>.yaml) in capabilities,
// validates it against the manifest schema in schemas, compiles its input
// and output schemas and checks its examples and error table. It returns a
// registry with no handlers bound, or every problem it found.
func Load(capabilities, schemas fs.FS) (*Registry, error) {
	compiler, err := schema.NewCompiler(schemas)
	if err != nil {
		return nil, Problems{{File: "schemas", Message: err.Error()}}
	}
	meta, err := compiler.CompileShared(manifestSchemaID)
	if err != nil {
		return nil, Problems{{File: "schemas/manifest.schema.json", Message: err.Error()}}
	}

	all, err := fs.Glob(capabilities, "*/*.yaml")
	if err != nil {
		return nil, err
	}
	// <version>.cases.yaml beside a manifest holds its conformance cases,
	// which the conformance package loads.
	var files []string
	for _, f := range all {
		// sets/ holds the built-in capability sets, which the sets
		// package loads.
		if !strings.HasSuffix(f, CasesSuffix) && !strings.HasPrefix(f, "sets/") {
			files = append(files, f)
		}
	}
	sort.Strings(files)
	r := &Registry{byName: map[string][]*Version{}, compiler: compiler}
	var problems Problems
	// A manifest must live at <name>/<version>.yaml (loadOne checks), so one
	// path per name@version makes a duplicate impossible by construction.
	for _, f := range files {
		v, ps := loadOne(capabilities, f, compiler, meta)
		if len(ps) > 0 {
			problems = append(problems, ps...)
			continue
		}
		r.add(v)
	}
	if strays, _ := fs.Glob(capabilities, "*/*.yml"); len(strays) > 0 {
		for _, f := range strays {
			problems = append(problems, Problem{File: "capabilities/" + f, Message: "manifests end in .yaml; rename it or it is never loaded"})
		}
	}
	if len(files) == 0 {
		problems = append(problems, Problem{File: "capabilities", Message: "no manifests found (expected <name>/<version>.yaml)"})
	}
	if len(problems) > 0 {
		return nil, problems
	}
	r.sort()
	if ps := r.checkReplacements(); len(ps) > 0 {
		return nil, ps
	}
	return r, nil
}

// checkReplacements requires every replacement named by a deprecated or
// retired version to resolve to a callable version, so an agent told to
// move never meets a dead end.
func (r *Registry) checkReplacements() Problems {
	var ps Problems
	for _, v := range r.all {
		rep := v.Manifest.Replacement
		if rep == "" {
			continue
		}
		ref, err := ParseRef(rep)
		if err == nil {
			_, err = r.Resolve(ref)
		}
		if err != nil {
			ps = append(ps, Problem{File: v.File, Field: "/replacement", Message: fmt.Sprintf("%s does not resolve: %v", rep, err)})
		}
	}
	return ps
}

func loadOne(fsys fs.FS, file string, compiler *schema.Compiler, meta *schema.Schema) (*Version, Problems) {
	shown := "capabilities/" + file
	fail := func(field, format string, args ...any) (*Version, Problems) {
		return nil, Problems{{File: shown, Field: field, Message: fmt.Sprintf(format, args...)}}
	}
	raw, err := fs.ReadFile(fsys, file)
	if err != nil {
		return fail("", "%v", err)
	}
	doc, err := YAMLToJSON(raw)
	if err != nil {
		return fail("", "not valid YAML: %v", err)
	}
	value, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		return fail("", "%v", err)
	}
	if issues := meta.Validate(value); len(issues) > 0 {
		var ps Problems
		for _, is := range issues {
			ps = append(ps, Problem{File: shown, Field: orRoot(is.Path), Message: is.Message})
		}
		return nil, ps
	}
	var m capability.Manifest
	if err := json.Unmarshal(doc, &m); err != nil {
		return fail("", "%v", err)
	}
	if want := m.Name + "/" + m.Version + ".yaml"; file != want {
		return fail("", "file must be named capabilities/%s for %s", want, m.Ref())
	}
	if !toolNameRE.MatchString(m.Name) {
		return fail("/name", "%q is not a valid MCP tool name (%s)", m.Name, toolNameRE)
	}
	v := &Version{Manifest: &m, File: shown}
	base := "capd:capabilities/" + m.Name + "/" + m.Version
	var ps Problems
	v.Input, err = compileField(compiler, base+"/input_schema.json", m.Input)
	if err != nil {
		ps = append(ps, Problem{File: shown, Field: "/input_schema", Message: err.Error()})
	}
	v.Output, err = compileField(compiler, base+"/output_schema.json", m.Output)
	if err != nil {
		ps = append(ps, Problem{File: shown, Field: "/output_schema", Message: err.Error()})
	}
	if len(ps) > 0 {
		return nil, ps
	}
	if v.InputJSON, err = compiler.Bundle(v.Input.Doc()); err != nil {
		ps = append(ps, Problem{File: shown, Field: "/input_schema", Message: err.Error()})
	}
	if v.OutputJSON, err = compiler.Bundle(v.Output.Doc()); err != nil {
		ps = append(ps, Problem{File: shown, Field: "/output_schema", Message: err.Error()})
	} else if v.OutputCompact, err = schema.StripAnnotations(v.OutputJSON); err != nil {
		ps = append(ps, Problem{File: shown, Field: "/output_schema", Message: err.Error()})
	}
	ps = append(ps, checkErrors(v)...)
	ps = append(ps, checkExamples(v)...)
	if len(ps) > 0 {
		return nil, ps
	}
	return v, nil
}

// checkErrors requires the error table to list exactly the codes the output
// schema can carry, so documentation and contract cannot drift apart.
func checkErrors(v *Version) Problems {
	enum := v.ErrorCodes()
	declared := make([]string, 0, len(v.Manifest.Errors))
	for code := range v.Manifest.Errors {
		declared = append(declared, code)
	}
	sort.Strings(declared)
	if strings.Join(enum, ",") != strings.Join(declared, ",") {
		return Problems{{File: v.File, Field: "/errors", Message: fmt.Sprintf("declares %v but output_schema /properties/error/enum allows %v; they must be the same codes", declared, enum)}}
	}
	return nil
}

func checkExamples(v *Version) Problems {
	var ps Problems
	for i, ex := range v.Manifest.Examples {
		for _, part := range []struct {
			name   string
			data   json.RawMessage
			schema *schema.Schema
		}{{"input", ex.Input, v.Input}, {"output", ex.Output, v.Output}} {
			val, err := schema.Decode(part.data, schema.MaxDepth)
			if err != nil {
				ps = append(ps, Problem{File: v.File, Field: fmt.Sprintf("/examples/%d/%s", i, part.name), Message: err.Error()})
				continue
			}
			for _, is := range part.schema.Validate(val) {
				ps = append(ps, Problem{File: v.File, Field: fmt.Sprintf("/examples/%d/%s%s", i, part.name, is.Path), Message: "does not satisfy the " + part.name + " schema: " + is.Message})
			}
		}
	}
	return ps
}

func compileField(c *schema.Compiler, url string, raw json.RawMessage) (*schema.Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return nil, err
	}
	return c.Compile(url, doc)
}

// YAMLToJSON converts one YAML document to JSON, keeping the order of
// mapping keys, so a schema shown to a person reads as its author wrote it
// ("type" and "required" before "properties"). Mapping keys must be
// strings, and values plain JSON types (no anchors to other types, no
// binary or timestamps: a date is written as a string).
func YAMLToJSON(data []byte) ([]byte, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	if len(doc.Content) == 0 {
		return []byte("null"), nil
	}
	c := yamlConverter{limit: max(MaxYAMLExpansion, 4*len(data)), expanding: map[*yaml.Node]bool{}}
	if err := c.write(doc.Content[0], 0); err != nil {
		return nil, err
	}
	return c.b.Bytes(), nil
}

// MaxYAMLExpansion bounds the JSON a YAML document may become (or four
// times the document's own size, if larger): aliases repeat what they name,
// so a few hundred bytes of nested aliases could otherwise expand to
// gigabytes.
const MaxYAMLExpansion = 4 << 20

// maxYAMLDepth bounds the nesting of a YAML document, aliases followed.
const maxYAMLDepth = 200

// yamlConverter writes a YAML node tree as JSON, refusing alias cycles,
// nesting deeper than maxYAMLDepth and output beyond limit.
type yamlConverter struct {
	b         bytes.Buffer
	limit     int
	expanding map[*yaml.Node]bool // anchors being written, to catch an alias to its own ancestor
}

func (c *yamlConverter) write(n *yaml.Node, depth int) error {
	if depth > maxYAMLDepth {
		return fmt.Errorf("line %d: nested more than %d levels deep", n.Line, maxYAMLDepth)
	}
	if c.b.Len() > c.limit {
		return fmt.Errorf("line %d: the document expands to more than %d bytes of JSON (through its aliases); write it out without aliases", n.Line, c.limit)
	}
	switch n.Kind {
	case yaml.AliasNode:
		if n.Alias == nil {
			return fmt.Errorf("line %d: alias *%s names no anchor", n.Line, n.Value)
		}
		if c.expanding[n.Alias] {
			return fmt.Errorf("line %d: alias *%s refers to a value that contains it; a YAML alias cannot repeat its own anchor", n.Line, n.Value)
		}
		c.expanding[n.Alias] = true
		err := c.write(n.Alias, depth+1)
		delete(c.expanding, n.Alias)
		return err
	case yaml.MappingNode:
		c.expanding[n] = true
		defer delete(c.expanding, n)
		c.b.WriteByte('{')
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Kind != yaml.ScalarNode || (k.Tag != "!!str" && k.Tag != "!!int" && k.Tag != "!!bool" && k.Tag != "!!float") {
				return fmt.Errorf("line %d: mapping keys must be strings", k.Line)
			}
			if i > 0 {
				c.b.WriteByte(',')
			}
			key, _ := json.Marshal(k.Value)
			c.b.Write(key)
			c.b.WriteByte(':')
			if err := c.write(v, depth+1); err != nil {
				return err
			}
		}
		c.b.WriteByte('}')
	case yaml.SequenceNode:
		c.expanding[n] = true
		defer delete(c.expanding, n)
		c.b.WriteByte('[')
		for i, child := range n.Content {
			if i > 0 {
				c.b.WriteByte(',')
			}
			if err := c.write(child, depth+1); err != nil {
				return err
			}
		}
		c.b.WriteByte(']')
	case yaml.ScalarNode:
		var v any
		switch n.Tag {
		case "!!str", "!!int", "!!float", "!!bool", "!!null":
			if err := n.Decode(&v); err != nil {
				return fmt.Errorf("line %d: %w", n.Line, err)
			}
		default:
			return fmt.Errorf("line %d: %s values are not JSON; quote it to make it a string", n.Line, n.Tag)
		}
		if n.Tag == "!!str" {
			v = n.Value
		}
		enc, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("line %d: %w", n.Line, err)
		}
		c.b.Write(enc)
	default:
		return fmt.Errorf("line %d: unsupported YAML node", n.Line)
	}
	return nil
}

func orRoot(p string) string {
	if p == "" {
		return "/"
	}
	return p
}
