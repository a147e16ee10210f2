// Package catalog serves capd's web catalog: server-rendered HTML pages that
// let people browse every capability version, its contract and its
// conformance results, the shared schemas, the provider matrix and each
// recorded conformance run, and the public capability sets with what each
// costs an agent's context.
package catalog

import (
	"errors"
	"io/fs"
	"log/slog"
	"net/http"

	"github.com/capd-dev/capd/internal/capability"
	"github.com/capd-dev/capd/internal/registry"
	"github.com/capd-dev/capd/internal/sets"
	"github.com/capd-dev/capd/schemas"
)

// server holds what every page handler needs.
type server struct {
	reg     *registry.Registry
	control capability.ControlStore
	sets    *sets.Service     // nil: the catalog has no set pages
	schemas fs.FS             // the shared JSON Schema files, by file name
	shared  map[string]any    // the shared schemas decoded, by $ref, for diffs
	titles  map[string]string // unique short titles to capability names
	budget  budget            // tools/list of the whole catalog, fixed with the registry
	pages   *pages
	static  *staticFiles
	logger  *slog.Logger
}

// New returns the catalog's handler. setService lists the public capability
// sets; nil leaves the set pages out. assets holds templates/*.html and
// static/* (pass Assets, or os.DirFS("internal/catalog/assets") for template
// development). Templates are parsed and static files read once, here, so a
// broken template stops start-up rather than a page view.
func New(reg *registry.Registry, control capability.ControlStore, setService *sets.Service, assets fs.FS, logger *slog.Logger) (http.Handler, error) {
	if reg == nil || control == nil || assets == nil {
		return nil, errors.New("catalog: New needs a registry, a control store and an assets FS")
	}
	if logger == nil {
		logger = slog.Default()
	}
	static, err := loadStatic(assets)
	if err != nil {
		return nil, err
	}
	p, err := parsePages(assets, static)
	if err != nil {
		return nil, err
	}
	shared, err := loadSharedSchemas(schemas.FS)
	if err != nil {
		return nil, err
	}
	s := &server{reg: reg, control: control, sets: setService, schemas: schemas.FS, shared: shared, pages: p, static: static, logger: logger,
		budget: catalogBudget(reg)}
	s.titles = shortTitles(reg.Names(), func(name string) string { return s.current(name).Manifest.Title })
	return securityHeaders(s.routes()), nil
}

// routes maps every catalog URL to its handler. Every pattern names GET, so
// the mux answers any other method with 405 and an Allow header.
func (s *server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.handleIndex)
	mux.HandleFunc("GET /capabilities/{name}", s.handleCapability)
	mux.HandleFunc("GET /capabilities/{name}/{version}", s.handleCapability)
	mux.HandleFunc("GET /capabilities/{name}/diff/{from}/{to}", s.handleCompare)
	mux.HandleFunc("GET /schemas", s.handleSchemaIndex)
	mux.HandleFunc("GET /schemas/{file}", s.handleSchema)
	mux.HandleFunc("GET /providers", s.handleProviders)
	if s.sets != nil {
		mux.HandleFunc("GET /sets", s.handleSets)
		mux.HandleFunc("GET /sets/{name}", s.handleSet)
	}
	mux.HandleFunc("GET /runs/{id}", s.handleRun)
	mux.HandleFunc("GET /static/{file}", s.handleStatic)
	mux.HandleFunc("GET /", s.handleNotFound)
	return mux
}

// securityHeaders sets the headers every catalog response carries, error
// pages and the mux's own 405 included. The policy allows only same-origin
// resources: no inline script or style, nothing fetched from elsewhere.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		next.ServeHTTP(w, r)
	})
}
