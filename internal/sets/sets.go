// Package sets resolves capability sets: named lists of capability
// references an agent connects to. A bare member resolves, at use time, to
// the latest version visible to the caller; a pinned member to exactly its
// version. A member that does not resolve is never hidden: it carries the
// reason.
package sets

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strings"

	"github.com/capd-dev/capd/internal/capability"
	"github.com/capd-dev/capd/internal/registry"
)

// NameRE is the rule for set names: a slug.
var NameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

// Resolved is one member and what it resolves to for a caller: Version, or
// Reason (one of the capability.Unresolvable* reasons).
type Resolved struct {
	Member  capability.SetMember
	Version *registry.Version
	Reason  string
}

// Resolve resolves every member of set for caller p (nil: no scope check),
// in member order.
func Resolve(reg *registry.Registry, set *capability.CapabilitySet, p *capability.Principal) []Resolved {
	out := make([]Resolved, 0, len(set.Members))
	for _, m := range set.Members {
		out = append(out, resolveMember(reg, m, p))
	}
	return out
}

func resolveMember(reg *registry.Registry, m capability.SetMember, p *capability.Principal) Resolved {
	r := Resolved{Member: m}
	versions := reg.VersionsOf(m.Name)
	if len(versions) == 0 {
		r.Reason = capability.UnresolvableNotFound
		return r
	}
	v, err := reg.Resolve(m.Ref())
	if err != nil {
		r.Reason = capability.UnresolvableVersionNotFound
		if capability.ErrorCode(err) == capability.CodeUpgradeRequired {
			r.Reason = capability.UnresolvableRetired
		}
		return r
	}
	if p != nil && !p.Allows(v.Manifest.Scope) {
		r.Reason = capability.UnresolvableNotPermitted
		return r
	}
	r.Version = v
	return r
}

// Unresolvable counts members that did not resolve.
func Unresolvable(rs []Resolved) int {
	n := 0
	for _, r := range rs {
		if r.Version == nil {
			n++
		}
	}
	return n
}

// Tools returns the resolvable members by tool name, sorted by name, the
// order tools/list shows them in. When two members name the same
// capability, the first resolvable one wins.
func Tools(rs []Resolved) []*registry.Version {
	seen := map[string]bool{}
	var out []*registry.Version
	for _, r := range rs {
		if r.Version == nil || seen[r.Version.Manifest.Name] {
			continue
		}
		seen[r.Version.Manifest.Name] = true
		out = append(out, r.Version)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Manifest.Name < out[j].Manifest.Name })
	return out
}

// ParseMembers accepts the forms the API and manifests allow — "name",
// "name@x.y.z" or {name, version?, notes?} — and returns the object form,
// or one issue per member that is malformed (a pinned version must be
// exact semver; ranges and "latest" are refused). Whether a name exists is
// not checked here: an unknown name is stored and surfaces as not_found.
func ParseMembers(raw []json.RawMessage, path string) ([]capability.SetMember, []capability.Issue) {
	var out []capability.SetMember
	var issues []capability.Issue
	for i, item := range raw {
		at := fmt.Sprintf("%s/%d", path, i)
		var m capability.SetMember
		var s string
		if err := json.Unmarshal(item, &s); err == nil {
			name, version, pinned := strings.Cut(s, "@")
			if pinned && version == "" {
				issues = append(issues, capability.Issue{Path: at, Message: fmt.Sprintf("%q: give an exact version after @, or leave @ out to follow the latest", s), Keyword: "pattern"})
				continue
			}
			m = capability.SetMember{Name: name, Version: version}
		} else {
			dec := json.NewDecoder(strings.NewReader(string(item)))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&m); err != nil {
				issues = append(issues, capability.Issue{Path: at, Message: "must be \"name\", \"name@x.y.z\" or {name, version?, notes?}: " + err.Error(), Keyword: "type"})
				continue
			}
		}
		if issue, ok := checkMember(m, at); !ok {
			issues = append(issues, issue)
			continue
		}
		out = append(out, m)
	}
	return out, issues
}

var memberNameRE = regexp.MustCompile(`^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$`)

func checkMember(m capability.SetMember, at string) (capability.Issue, bool) {
	if !memberNameRE.MatchString(m.Name) {
		return capability.Issue{Path: at, Message: fmt.Sprintf("%q is not a capability name (domain.name, e.g. projects.create_task)", m.Name), Keyword: "pattern"}, false
	}
	if m.Version != "" && !registry.IsSemver(m.Version) {
		return capability.Issue{Path: at, Message: fmt.Sprintf("%s@%s: a pinned version must be exact semver such as 0.1.0; ranges and tags such as latest are refused (leave the version out to follow the latest)", m.Name, m.Version), Keyword: "pattern"}, false
	}
	if len(m.Notes) > 1000 {
		return capability.Issue{Path: at + "/notes", Message: "must be at most 1000 characters", Keyword: "maxLength"}, false
	}
	return capability.Issue{}, true
}

// BuiltInDir is where built-in set manifests live inside capabilities/.
const BuiltInDir = "sets"

// LoadBuiltIn reads the built-in public sets, capabilities/sets/<name>.yaml,
// and checks every member resolves (a built-in set that points nowhere is
// a packaging mistake, not something to discover at use time).
func LoadBuiltIn(fsys fs.FS, reg *registry.Registry) ([]*capability.CapabilitySet, error) {
	files, err := fs.Glob(fsys, BuiltInDir+"/*.yaml")
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	var out []*capability.CapabilitySet
	var problems registry.Problems
	for _, f := range files {
		shown := "capabilities/" + f
		raw, err := fs.ReadFile(fsys, f)
		if err != nil {
			return nil, err
		}
		data, err := registry.YAMLToJSON(raw)
		if err != nil {
			problems = append(problems, registry.Problem{File: shown, Message: "not valid YAML: " + err.Error()})
			continue
		}
		var doc struct {
			Name        string            `json:"name"`
			Description string            `json:"description"`
			Source      string            `json:"source"`
			Tags        []string          `json:"tags"`
			Members     []json.RawMessage `json:"members"`
		}
		dec := json.NewDecoder(strings.NewReader(string(data)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&doc); err != nil {
			problems = append(problems, registry.Problem{File: shown, Message: err.Error()})
			continue
		}
		if want := strings.TrimSuffix(path.Base(f), ".yaml"); doc.Name != want || !NameRE.MatchString(doc.Name) {
			problems = append(problems, registry.Problem{File: shown, Field: "/name", Message: fmt.Sprintf("must be a slug equal to the file name (%s)", want)})
			continue
		}
		members, issues := ParseMembers(doc.Members, "/members")
		for _, is := range issues {
			problems = append(problems, registry.Problem{File: shown, Field: is.Path, Message: is.Message})
		}
		set := &capability.CapabilitySet{Name: doc.Name, Description: doc.Description, IsPublic: true, Members: members,
			Source: doc.Source, Tags: doc.Tags, CreatedBy: "capd"}
		for i, r := range Resolve(reg, set, nil) {
			if r.Version == nil {
				problems = append(problems, registry.Problem{File: shown, Field: fmt.Sprintf("/members/%d", i), Message: fmt.Sprintf("%s does not resolve (%s)", r.Member.Ref(), r.Reason)})
			}
		}
		if set.Tags == nil {
			set.Tags = []string{}
		}
		out = append(out, set)
	}
	if len(problems) > 0 {
		return nil, problems
	}
	return out, nil
}
