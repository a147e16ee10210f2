package httpapi

import (
	"encoding/json"
	"log/slog"
	"mime"
	"net/http"
	"runtime/debug"
	"slices"
	"strings"

	"github.com/capd-dev/capd/internal/capability"
	"github.com/capd-dev/capd/internal/invoke"
	"github.com/capd-dev/capd/internal/registry"
	"github.com/capd-dev/capd/internal/sets"
)

// API serves /api/v1/.
type API struct {
	Registry *registry.Registry
	Invoker  *invoke.Invoker
	Control  capability.ControlStore
	Sets     *sets.Service // nil: no capability-set endpoints
	Guard    *Guard
	// CatalogAuth makes the read endpoints require a key, as the catalog
	// pages do under --catalog-auth; otherwise they are public (they show
	// contracts and conformance results, not tenant data).
	CatalogAuth bool
	Logger      *slog.Logger
}

// Handler returns the API's routes. Paths it does not know answer 404 and
// wrong methods 405 with Allow, both in the canonical envelope.
func (a *API) Handler() http.Handler {
	read := a.Guard.WrapOptional
	if a.CatalogAuth {
		read = a.Guard.Wrap
	}
	get := []string{http.MethodGet, http.MethodHead}
	mux := http.NewServeMux()
	mux.Handle("/api/v1/tools/{ref}", a.Guard.Wrap(endpoint([]string{http.MethodPost}, a.callTool)))
	mux.Handle("/api/v1/capabilities", read(endpoint(get, a.listCapabilities)))
	mux.Handle("/api/v1/capabilities/{name}", read(endpoint(get, a.getCapability)))
	mux.Handle("/api/v1/capabilities/{name}/versions/{version}", read(endpoint(get, a.getVersion)))
	mux.Handle("/api/v1/conformance/runs", read(endpoint(get, a.listRuns)))
	mux.Handle("/api/v1/conformance/runs/{id}", read(endpoint(get, a.getRun)))
	mux.Handle("/api/v1/providers", read(endpoint(get, a.listProviders)))
	if a.Sets != nil {
		mux.Handle("/api/v1/org/{org}/capability-sets", a.Guard.Wrap(endpoint([]string{http.MethodGet, http.MethodHead, http.MethodPost}, a.setsCollection)))
		mux.Handle("/api/v1/org/{org}/capability-sets/{name}", a.Guard.Wrap(endpoint([]string{http.MethodGet, http.MethodHead, http.MethodPatch, http.MethodDelete}, a.setsItem)))
	}
	mux.HandleFunc("/api/v1/", func(w http.ResponseWriter, r *http.Request) {
		WriteError(w, http.StatusNotFound, "not_found", "no API endpoint at "+r.URL.Path+"; see the README for the endpoints under /api/v1")
	})
	return mux
}

// endpoint checks the method (405 with Allow) and that the client accepts
// JSON (406) before h runs.
func endpoint(methods []string, h http.HandlerFunc) http.Handler {
	allow := strings.Join(methods, ", ")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !slices.Contains(methods, r.Method) {
			w.Header().Set("Allow", allow)
			WriteError(w, http.StatusMethodNotAllowed, "method_not_allowed", "method "+r.Method+" is not allowed here; use "+allow)
			return
		}
		if !acceptsJSON(r.Header.Values("Accept")) {
			WriteError(w, http.StatusNotAcceptable, "not_acceptable", "this endpoint answers only application/json, which the Accept header excludes")
			return
		}
		// A bug in a handler answers 500 in the envelope instead of
		// dropping the connection; the stack goes to the log.
		defer func() {
			if p := recover(); p != nil {
				slog.Error("http api panic", "path", r.URL.Path, "panic", p, "stack", string(debug.Stack()))
				WriteError(w, http.StatusInternalServerError, "internal_error", "the server failed to answer; it was logged. Retry later")
			}
		}()
		h(w, r)
	})
}

// acceptsJSON reports whether Accept headers allow application/json; no
// header means anything goes. A range with q=0 excludes.
func acceptsJSON(values []string) bool {
	if len(values) == 0 {
		return true
	}
	for _, v := range values {
		for _, part := range strings.Split(v, ",") {
			mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
			if err != nil || params["q"] == "0" || params["q"] == "0.0" || params["q"] == "0.000" {
				continue
			}
			switch {
			case mt == "*/*", mt == "application/*", mt == "application/json", strings.HasSuffix(mt, "+json"):
				return true
			}
		}
	}
	return false
}

// writeJSON writes v with status 200.
func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// internalError logs err and answers 500 with nothing of it.
func (a *API) internalError(w http.ResponseWriter, what string, err error) {
	logger := a.Logger
	if logger == nil {
		logger = slog.Default()
	}
	logger.Error(what, "err", err)
	WriteError(w, http.StatusInternalServerError, "internal_error", "the server failed to answer; it was logged. Retry later")
}
