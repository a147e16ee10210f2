package conformance

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/capd-dev/capd/internal/capability"
	"github.com/capd-dev/capd/internal/registry"
	"github.com/capd-dev/capd/internal/schema"
)

// Case kinds. Generated cases are rejections derived from an input schema.
const (
	KindHappy     = "happy"
	KindRejection = "rejection"
	KindGenerated = "generated"
)

// Case is one conformance case of one capability version.
type Case struct {
	ID          string `json:"id"`
	Kind        string `json:"kind"`
	Description string `json:"description,omitempty"`
	Given       []Step `json:"given,omitempty"`
	Input       any    `json:"input"`
	Expect      Expect `json:"expect"`

	Version *registry.Version `json:"-"` // the capability version under test
}

// Ref returns name@version of the capability under test.
func (c *Case) Ref() string { return c.Version.Manifest.Ref() }

// Step is one capability call that sets up a case. Its output is bound to
// As for templates in later steps and the case input.
type Step struct {
	As    string `json:"as,omitempty"`
	Call  string `json:"call"`
	Input any    `json:"input"`
}

// Expect is what a case requires of the answer.
type Expect struct {
	OK     bool           `json:"ok,omitempty"`
	Error  string         `json:"error,omitempty"`
	Fields map[string]any `json:"fields,omitempty"`
	// Issues lists JSON pointers the rejection's issues must name. For
	// generated cases it is checked only when the answer carries issues,
	// since a contract may not promise them.
	Issues []string `json:"issues,omitempty"`
	Then   []Check  `json:"then,omitempty"`

	issuesOptional bool
}

// Check is a read-back call after a happy case, with fields that must match.
type Check struct {
	Call   string         `json:"call"`
	Input  any            `json:"input"`
	Fields map[string]any `json:"fields"`
}

type caseFile struct {
	Cases []*Case `json:"cases"`
}

// Suite is every case of every capability version in a registry, written
// and generated, in a stable order.
type Suite struct {
	Registry *registry.Registry
	cases    map[*registry.Version][]*Case
}

// Cases returns the cases of v: written ones in file order, then generated
// ones sorted by id.
func (s *Suite) Cases(v *registry.Version) []*Case { return s.cases[v] }

// Load reads the cases file beside each manifest in capabilities, checks it
// against schemas/cases.schema.json, and adds the generated cases. Every
// capability version must have at least one happy and one rejection case.
func Load(capabilities, schemas fs.FS, reg *registry.Registry) (*Suite, error) {
	compiler, err := schema.NewCompiler(schemas)
	if err != nil {
		return nil, err
	}
	fileSchema, err := compiler.CompileShared(schema.SharedPrefix + "cases.schema.json")
	if err != nil {
		return nil, err
	}
	s := &Suite{Registry: reg, cases: map[*registry.Version][]*Case{}}
	var problems registry.Problems
	for _, v := range reg.Versions() {
		file := v.Manifest.Name + "/" + v.Manifest.Version + registry.CasesSuffix
		shown := "capabilities/" + file
		cases, ps := loadFile(capabilities, file, shown, fileSchema, reg)
		problems = append(problems, ps...)
		if len(ps) > 0 {
			continue
		}
		seen := map[string]bool{}
		kinds := map[string]int{}
		for i, c := range cases {
			if seen[c.ID] {
				problems = append(problems, registry.Problem{File: shown, Field: fmt.Sprintf("/cases/%d/id", i), Message: "duplicate case id " + c.ID})
			}
			seen[c.ID] = true
			kinds[c.Kind]++
			c.Version = v
		}
		for _, k := range []string{KindHappy, KindRejection} {
			if kinds[k] == 0 {
				problems = append(problems, registry.Problem{File: shown, Field: "/cases", Message: fmt.Sprintf("%s has no %s case; every capability version needs at least one happy and one rejection case", v.Manifest.Ref(), k)})
			}
		}
		s.cases[v] = append(cases, Generate(v, cases)...)
	}
	// A cases file needs its manifest: otherwise its cases would never run.
	files, _ := fs.Glob(capabilities, "*/*"+registry.CasesSuffix)
	for _, f := range files {
		dir, base := path.Split(f)
		ref := strings.TrimSuffix(dir, "/") + "@" + strings.TrimSuffix(base, registry.CasesSuffix)
		if r, err := registry.ParseRef(ref); err != nil || !hasVersion(reg, r) {
			problems = append(problems, registry.Problem{File: "capabilities/" + f, Message: fmt.Sprintf("no manifest for %s beside these cases; add capabilities/%s.yaml or remove the file", ref, strings.Replace(ref, "@", "/", 1))})
		}
	}
	if len(problems) > 0 {
		return nil, problems
	}
	return s, nil
}

func hasVersion(reg *registry.Registry, r capability.Ref) bool {
	for _, v := range reg.VersionsOf(r.Name) {
		if v.Manifest.Version == r.Version {
			return true
		}
	}
	return false
}

func loadFile(fsys fs.FS, file, shown string, fileSchema *schema.Schema, reg *registry.Registry) ([]*Case, registry.Problems) {
	fail := func(field, format string, args ...any) ([]*Case, registry.Problems) {
		return nil, registry.Problems{{File: shown, Field: field, Message: fmt.Sprintf(format, args...)}}
	}
	raw, err := fs.ReadFile(fsys, file)
	if err != nil {
		return fail("", "missing: every capability version needs conformance cases beside its manifest (%v)", err)
	}
	data, err := registry.YAMLToJSON(raw)
	if err != nil {
		return fail("", "not valid YAML: %v", err)
	}
	value, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return fail("", "%v", err)
	}
	if issues := fileSchema.Validate(value); len(issues) > 0 {
		var ps registry.Problems
		for _, is := range issues {
			ps = append(ps, registry.Problem{File: shown, Field: is.Path, Message: is.Message})
		}
		return nil, ps
	}
	var cf caseFile
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&cf); err != nil {
		return fail("", "%v", err)
	}
	var ps registry.Problems
	for i, c := range cf.Cases {
		for j, st := range c.Given {
			ps = append(ps, checkCall(reg, shown, fmt.Sprintf("/cases/%d/given/%d/call", i, j), st.Call)...)
		}
		for j, ch := range c.Expect.Then {
			ps = append(ps, checkCall(reg, shown, fmt.Sprintf("/cases/%d/expect/then/%d/call", i, j), ch.Call)...)
		}
	}
	return cf.Cases, ps
}

// checkCall requires a setup or read-back call to name a known capability.
func checkCall(reg *registry.Registry, file, field, call string) registry.Problems {
	ref, err := registry.ParseRef(call)
	if err == nil {
		_, err = reg.Resolve(ref)
	}
	if err != nil {
		return registry.Problems{{File: file, Field: field, Message: err.Error()}}
	}
	return nil
}

// Filter selects cases. Empty fields select everything.
type Filter struct {
	Capability string // name or name@version
	Case       string // case id
	Kind       string // happy, rejection or generated
}

// Select returns the cases matching f, ordered by capability name, version,
// then case order. Retired versions are left out: they answer only
// upgrade_required, which the registry already guarantees, and their
// published cases stay in place for the record.
func (s *Suite) Select(f Filter) []*Case {
	name, version, _ := strings.Cut(f.Capability, "@")
	var out []*Case
	for _, v := range s.Registry.Versions() {
		if v.Manifest.Status == capability.StatusRetired {
			continue
		}
		if name != "" && v.Manifest.Name != name {
			continue
		}
		if version != "" && v.Manifest.Version != version {
			continue
		}
		for _, c := range s.cases[v] {
			if f.Case != "" && c.ID != f.Case {
				continue
			}
			if f.Kind != "" && c.Kind != f.Kind {
				continue
			}
			out = append(out, c)
		}
	}
	return out
}

// sortedKeys returns m's keys in order, for deterministic output.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
