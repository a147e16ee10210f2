package httpapi

import (
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/capd-dev/capd/conformance"
	"github.com/capd-dev/capd/internal/capability"
	"github.com/capd-dev/capd/internal/registry"
	"github.com/capd-dev/capd/internal/tooldef"
)

// versionRef is one version of a capability in listings.
type versionRef struct {
	Version     string            `json:"version"`
	Status      capability.Status `json:"status"`
	Replacement string            `json:"replacement,omitempty"`
}

// badgeJSON is a capability version's conformance across providers.
type badgeJSON struct {
	Status    string     `json:"status"` // passing, failing or never_run
	Passed    int        `json:"passed"`
	Total     int        `json:"total"`
	Providers int        `json:"providers"`
	LastRun   *time.Time `json:"last_run_at"`
}

type capabilitySummary struct {
	Name          string            `json:"name"`
	Title         string            `json:"title"`
	Summary       string            `json:"summary"`
	Scope         capability.Scope  `json:"scope"`
	LatestVersion string            `json:"latest_version"`
	Status        capability.Status `json:"status"`
	Versions      []versionRef      `json:"versions"`
	Conformance   badgeJSON         `json:"conformance"`
}

type versionDetail struct {
	*capability.Manifest
	Provider    string     `json:"provider"`
	Conformance badgeJSON  `json:"conformance"`
	Providers   []cellJSON `json:"providers"`
}

func badge(cells []conformance.Cell, name, version string) badgeJSON {
	b := conformance.BadgeFor(cells, name, version)
	out := badgeJSON{Status: b.Status, Passed: b.Passed, Total: b.Total, Providers: b.Providers}
	if !b.LastRun.IsZero() {
		t := b.LastRun.UTC()
		out.LastRun = &t
	}
	return out
}

// shown returns the version a bare name shows: the one it resolves to, or
// the newest when every version is retired.
func shown(reg *registry.Registry, name string) *registry.Version {
	if v := reg.Latest(name); v != nil {
		return v
	}
	vs := reg.VersionsOf(name)
	if len(vs) == 0 {
		return nil
	}
	return vs[len(vs)-1]
}

func versionsOf(reg *registry.Registry, name string) []versionRef {
	var out []versionRef
	for _, v := range reg.VersionsOf(name) {
		out = append(out, versionRef{Version: v.Manifest.Version, Status: v.Manifest.Status, Replacement: v.Manifest.Replacement})
	}
	return out
}

// listCapabilities serves GET /api/v1/capabilities?scope=&q=&format=. With
// a format it returns {"tools": [...]} in that ecosystem's shape (only
// callable versions); a key, when given, narrows the list to its scopes.
func (a *API) listCapabilities(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	scope, query, format := q.Get("scope"), strings.ToLower(q.Get("q")), q.Get("format")
	var bad []FieldError
	if scope != "" && !slices.Contains(capability.AllScopes, capability.Scope(scope)) {
		bad = append(bad, FieldError{Loc: []string{"query", "scope"}, Msg: "must be one of: " + capability.JoinScopes(capability.AllScopes), Type: "enum"})
	}
	switch format {
	case "", tooldef.FormatMCP, tooldef.FormatOpenAI, tooldef.FormatAnthropic:
	default:
		bad = append(bad, FieldError{Loc: []string{"query", "format"}, Msg: "must be one of: mcp, openai, anthropic", Type: "enum"})
	}
	if len(bad) > 0 {
		writeEnvelope(w, Envelope{Code: http.StatusUnprocessableEntity, Type: "validation_error", Detail: "invalid query parameters", Errors: bad})
		return
	}
	p, authed := capability.PrincipalFrom(r.Context())
	var picked []*registry.Version
	for _, name := range a.Registry.Names() {
		v := shown(a.Registry, name)
		m := v.Manifest
		if scope != "" && string(m.Scope) != scope {
			continue
		}
		if authed && !p.Allows(m.Scope) {
			continue
		}
		if query != "" && !matches(m, query) {
			continue
		}
		picked = append(picked, v)
	}
	if format != "" {
		tools := []any{}
		for _, v := range picked {
			if v.Manifest.Status == capability.StatusRetired {
				continue
			}
			t, err := tooldef.Render(v, format)
			if err != nil {
				a.internalError(w, "render tool", err)
				return
			}
			tools = append(tools, t)
		}
		writeJSON(w, map[string]any{"tools": tools})
		return
	}
	cells, err := a.cells(r)
	if err != nil {
		a.internalError(w, "conformance cells", err)
		return
	}
	items := []capabilitySummary{}
	for _, v := range picked {
		m := v.Manifest
		items = append(items, capabilitySummary{
			Name: m.Name, Title: m.Title, Summary: m.Summary, Scope: m.Scope, LatestVersion: m.Version, Status: m.Status,
			Versions: versionsOf(a.Registry, m.Name), Conformance: badge(cells, m.Name, m.Version),
		})
	}
	writeJSON(w, map[string]any{"items": items})
}

// matches reports whether the manifest mentions q (lower case).
func matches(m *capability.Manifest, q string) bool {
	for _, s := range []string{m.Name, m.Title, m.Summary, m.Semantics, m.WhenToUse} {
		if strings.Contains(strings.ToLower(s), q) {
			return true
		}
	}
	return false
}

// getCapability serves GET /api/v1/capabilities/{name}: its versions and
// the detail of the version a bare name shows.
func (a *API) getCapability(w http.ResponseWriter, r *http.Request) {
	name := tooldef.CapabilityName(r.PathValue("name"))
	v := shown(a.Registry, name)
	if v == nil {
		WriteError(w, http.StatusNotFound, "not_found", "no capability named "+name+"; GET /api/v1/capabilities lists them")
		return
	}
	detail, err := a.detail(r, v)
	if err != nil {
		a.internalError(w, "capability detail", err)
		return
	}
	writeJSON(w, map[string]any{
		"name": name, "latest_version": v.Manifest.Version, "versions": versionsOf(a.Registry, name), "capability": detail,
	})
}

// getVersion serves GET /api/v1/capabilities/{name}/versions/{version}.
func (a *API) getVersion(w http.ResponseWriter, r *http.Request) {
	name, version := tooldef.CapabilityName(r.PathValue("name")), r.PathValue("version")
	for _, v := range a.Registry.VersionsOf(name) {
		if v.Manifest.Version == version {
			detail, err := a.detail(r, v)
			if err != nil {
				a.internalError(w, "capability detail", err)
				return
			}
			writeJSON(w, detail)
			return
		}
	}
	WriteError(w, http.StatusNotFound, "not_found", "no capability "+name+"@"+version+"; GET /api/v1/capabilities/"+name+" lists its versions")
}

func (a *API) detail(r *http.Request, v *registry.Version) (versionDetail, error) {
	cells, err := a.cells(r)
	if err != nil {
		return versionDetail{}, err
	}
	d := versionDetail{Manifest: v.Manifest, Provider: v.Provider, Conformance: badge(cells, v.Manifest.Name, v.Manifest.Version), Providers: []cellJSON{}}
	for _, c := range cells {
		if c.Capability == v.Manifest.Name && c.Version == v.Manifest.Version {
			d.Providers = append(d.Providers, toCellJSON(c))
		}
	}
	return d, nil
}

// cells reads the newest result of every case on every provider instance.
func (a *API) cells(r *http.Request) ([]conformance.Cell, error) {
	latest, err := a.Control.LatestConformance(r.Context(), capability.ConformanceFilter{})
	if err != nil {
		return nil, err
	}
	return conformance.Cells(latest), nil
}
