package httpapi

import (
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/capd-dev/capd/internal/capability"
	"github.com/capd-dev/capd/internal/invoke"
	"github.com/capd-dev/capd/internal/registry"
	"github.com/capd-dev/capd/internal/tooldef"
)

// callTool serves POST /api/v1/tools/{name}[@{version}]: the body is the
// arguments object; success is 200 with the capability's output, anything
// else the envelope. The name may also be in function form
// (projects__create_task), as OpenAI and Anthropic tool lists carry it.
func (a *API) callTool(w http.ResponseWriter, r *http.Request) {
	p, _ := capability.PrincipalFrom(r.Context())
	ref, err := registry.ParseRef(r.PathValue("ref"))
	if err != nil {
		writeAppError(w, capability.AsError(err), nil)
		return
	}
	ref.Name = tooldef.CapabilityName(ref.Name)
	body, err := io.ReadAll(r.Body)
	if err != nil {
		WriteError(w, http.StatusBadRequest, "bad_request", "could not read the request body")
		return
	}
	if len(strings.TrimSpace(string(body))) > 0 {
		if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
			WriteError(w, http.StatusUnsupportedMediaType, "unsupported_media_type",
				"the body must be a JSON object sent with Content-Type: application/json, not "+quoteOr(r.Header.Get("Content-Type"), "no Content-Type"))
			return
		}
		if !json.Valid(body) {
			WriteError(w, http.StatusBadRequest, "bad_request", "the request body is not valid JSON; send the arguments as a JSON object")
			return
		}
	}
	ctx := r.Context()
	req, _ := invoke.RequestFrom(ctx)
	req.Transport = invoke.TransportHTTPAPI
	ctx = invoke.WithRequest(ctx, req)
	if key := r.Header.Get("Idempotency-Key"); key != "" {
		ctx = invoke.WithIdempotencyKey(ctx, key)
	}
	res := a.Invoker.Call(ctx, p, ref, body)
	if res.Replayed {
		w.Header().Set("Idempotent-Replayed", "true")
	}
	if res.Warning != "" {
		w.Header().Set("Deprecation", "true")
		w.Header().Set("Warning", `299 capd "`+strings.ReplaceAll(res.Warning, `"`, `'`)+`"`)
	}
	if res.Version != nil {
		w.Header().Set("Capd-Capability", res.Version.Manifest.Ref())
	}
	if res.Err != nil {
		if ms, ok := res.Err.Details["retry_after_ms"].(int64); ok {
			w.Header().Set("Retry-After", strconv.FormatInt((ms+999)/1000, 10))
		}
		var result any
		if res.InContract {
			result = json.RawMessage(res.JSON)
		}
		writeAppError(w, res.Err, result)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write(append(res.JSON, '\n'))
}

func quoteOr(s, none string) string {
	if s == "" {
		return none
	}
	return `"` + s + `"`
}
