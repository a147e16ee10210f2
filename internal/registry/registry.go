package registry

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/capd-dev/capd/internal/capability"
	"github.com/capd-dev/capd/internal/schema"
)

// Version is one loaded capability version: its contract, compiled schemas,
// the self-contained schemas published to clients, and its bound handler.
type Version struct {
	Manifest   *capability.Manifest
	File       string // where the manifest came from, for messages
	Input      *schema.Schema
	Output     *schema.Schema
	InputJSON  json.RawMessage // Input with shared refs inlined
	OutputJSON json.RawMessage // Output with shared refs inlined
	// OutputCompact is OutputJSON without annotation keywords: what MCP
	// clients get, since it validates the same and costs less context.
	OutputCompact json.RawMessage
	Provider      string
	Handler       capability.Handler
}

// ErrorCodes returns the codes the output schema's "error" property allows,
// sorted.
func (v *Version) ErrorCodes() []string {
	doc, _ := v.Output.Doc().(map[string]any)
	props, _ := doc["properties"].(map[string]any)
	errProp, _ := props["error"].(map[string]any)
	enum, _ := errProp["enum"].([]any)
	codes := make([]string, 0, len(enum))
	for _, c := range enum {
		if s, ok := c.(string); ok {
			codes = append(codes, s)
		}
	}
	sort.Strings(codes)
	return codes
}

// Registry is the immutable set of capability versions capd serves.
type Registry struct {
	byName   map[string][]*Version // versions of a name, oldest first
	all      []*Version            // by name, then version
	compiler *schema.Compiler
}

func (r *Registry) add(v *Version) {
	r.byName[v.Manifest.Name] = append(r.byName[v.Manifest.Name], v)
}

func (r *Registry) sort() {
	names := make([]string, 0, len(r.byName))
	for n, vs := range r.byName {
		sort.Slice(vs, func(i, j int) bool { return compareSemver(vs[i].Manifest.Version, vs[j].Manifest.Version) < 0 })
		names = append(names, n)
	}
	sort.Strings(names)
	r.all = r.all[:0]
	for _, n := range names {
		r.all = append(r.all, r.byName[n]...)
	}
}

// Versions returns every version, ordered by name then version.
func (r *Registry) Versions() []*Version { return r.all }

// Names returns every capability name, sorted.
func (r *Registry) Names() []string {
	names := make([]string, 0, len(r.byName))
	for n := range r.byName {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// VersionsOf returns the versions of name, oldest first.
func (r *Registry) VersionsOf(name string) []*Version { return r.byName[name] }

// Bind attaches each provider's handlers to their manifests. Every manifest
// must get exactly one handler and every handler must have a manifest;
// otherwise Bind reports each mismatch by name and file.
func (r *Registry) Bind(providers ...capability.Provider) error {
	var problems Problems
	bound := map[string]string{}
	for _, p := range providers {
		refs := make([]string, 0, len(p.Handlers()))
		for ref := range p.Handlers() {
			refs = append(refs, ref)
		}
		sort.Strings(refs)
		for _, ref := range refs {
			v := r.exact(ref)
			if v == nil {
				problems = append(problems, Problem{File: "provider " + p.Name(), Message: fmt.Sprintf("handler %s has no manifest; add capabilities/%s.yaml or remove the handler", ref, strings.Replace(ref, "@", "/", 1))})
				continue
			}
			if other, dup := bound[ref]; dup {
				problems = append(problems, Problem{File: v.File, Message: fmt.Sprintf("bound twice, by providers %s and %s", other, p.Name())})
				continue
			}
			bound[ref] = p.Name()
			v.Provider = p.Name()
			v.Handler = p.Handlers()[ref]
		}
	}
	for _, v := range r.all {
		if v.Handler == nil {
			problems = append(problems, Problem{File: v.File, Message: fmt.Sprintf("capability %s has no handler in any provider", v.Manifest.Ref())})
		}
	}
	if len(problems) > 0 {
		return problems
	}
	return nil
}

func (r *Registry) exact(ref string) *Version {
	name, version, ok := strings.Cut(ref, "@")
	if !ok {
		return nil
	}
	for _, v := range r.byName[name] {
		if v.Manifest.Version == version {
			return v
		}
	}
	return nil
}

// ParseRef parses "name" or "name@x.y.z". A pinned version must be exact
// semver: ranges and tags such as "latest" are refused.
func ParseRef(s string) (capability.Ref, error) {
	name, version, pinned := strings.Cut(s, "@")
	if name == "" {
		return capability.Ref{}, capability.Errorf(capability.CodeInvalidInput, "empty capability reference")
	}
	if pinned && !IsSemver(version) {
		return capability.Ref{}, capability.Errorf(capability.CodeInvalidInput, "%q: a pinned version must be exact semver such as 0.1.0, not %q", s, version)
	}
	return capability.Ref{Name: name, Version: version}, nil
}

// Resolve finds the version a reference means now. A bare name resolves to
// the latest stable version, or the latest deprecated one when none is
// stable; a pinned reference must exist exactly. A retired version answers
// upgrade_required naming its replacement.
func (r *Registry) Resolve(ref capability.Ref) (*Version, error) {
	versions := r.byName[ref.Name]
	if len(versions) == 0 {
		return nil, capability.Errorf(capability.CodeCapabilityUnknown, "no capability named %q; call tools/list to see what this key can use", ref.Name)
	}
	if ref.Version != "" {
		for _, v := range versions {
			if v.Manifest.Version == ref.Version {
				if v.Manifest.Status == capability.StatusRetired {
					return nil, upgradeRequired(v)
				}
				return v, nil
			}
		}
		have := make([]string, len(versions))
		for i, v := range versions {
			have[i] = v.Manifest.Version
		}
		return nil, capability.Errorf(capability.CodeNotFound, "%s has no version %s; versions: %s", ref.Name, ref.Version, strings.Join(have, ", "))
	}
	if v := r.Latest(ref.Name); v != nil {
		return v, nil
	}
	return nil, upgradeRequired(versions[len(versions)-1])
}

// Latest returns the version a bare name resolves to: the newest stable
// release, else the newest deprecated one; never a pre-release. Nil when
// nothing qualifies (every version retired or pre-release).
func (r *Registry) Latest(name string) *Version {
	var deprecated *Version
	versions := r.byName[name]
	for i := len(versions) - 1; i >= 0; i-- {
		if IsPrerelease(versions[i].Manifest.Version) {
			continue // reached only when pinned
		}
		switch versions[i].Manifest.Status {
		case capability.StatusStable:
			return versions[i]
		case capability.StatusDeprecated:
			if deprecated == nil {
				deprecated = versions[i]
			}
		}
	}
	return deprecated
}

func upgradeRequired(v *Version) error {
	msg := fmt.Sprintf("%s is retired", v.Manifest.Ref())
	if v.Manifest.Replacement != "" {
		msg += "; use " + v.Manifest.Replacement + " instead"
	}
	return capability.Errorf(capability.CodeUpgradeRequired, "%s", msg)
}

// BodyLimits returns, per capability name, the largest request body any of
// its callable versions allows when above the server default.
func (r *Registry) BodyLimits() map[string]int64 {
	out := map[string]int64{}
	for _, v := range r.all {
		if n := v.Manifest.Limits.MaxInputBytes; n > 0 && v.Manifest.Status != capability.StatusRetired {
			out[v.Manifest.Name] = max(out[v.Manifest.Name], n)
		}
	}
	return out
}
