package httpapi

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/capd-dev/capd/internal/capability"
)

// Envelope is capd's canonical HTTP error body
// (schemas/error-envelope.schema.json): the status again, a stable type, a
// human detail, and one entry per offending field. Error and Result add the
// capability's own rejection when there is one, so an HTTP client gets
// what an MCP client gets (for example allowed_transitions).
type Envelope struct {
	Code   int          `json:"code"`
	Type   string       `json:"type"`
	Detail string       `json:"detail"`
	Errors []FieldError `json:"errors"`
	Error  string       `json:"error,omitempty"`
	Result any          `json:"result,omitempty"`
}

// FieldError locates one validation problem: loc is the path from the
// request part ("body") to the field.
type FieldError struct {
	Loc  []string `json:"loc"`
	Msg  string   `json:"msg"`
	Type string   `json:"type"`
}

// statusFor is the one mapping from application error codes to HTTP: the
// status and the envelope's stable type.
var statusFor = map[string]struct {
	status int
	typ    string
}{
	capability.CodeInvalidInput:      {http.StatusUnprocessableEntity, "validation_error"},
	capability.CodeUnknownProject:    {http.StatusNotFound, "not_found"},
	capability.CodeUnknownTask:       {http.StatusNotFound, "not_found"},
	capability.CodeUnknownAction:     {http.StatusNotFound, "not_found"},
	capability.CodeUnknownRun:        {http.StatusNotFound, "not_found"},
	capability.CodeUnknownArtifact:   {http.StatusNotFound, "not_found"},
	capability.CodeUnknownTaskType:   {http.StatusUnprocessableEntity, "validation_error"},
	capability.CodeNotFound:          {http.StatusNotFound, "not_found"},
	capability.CodeCapabilityUnknown: {http.StatusNotFound, "not_found"},
	capability.CodeInvalidTransition: {http.StatusConflict, "conflict"},
	capability.CodeAlreadyExists:     {http.StatusConflict, "already_exists"},
	capability.CodeConflict:          {http.StatusConflict, "conflict"},
	capability.CodeUnauthenticated:   {http.StatusUnauthorized, "authentication_error"},
	capability.CodeForbidden:         {http.StatusForbidden, "forbidden"},
	capability.CodeUpgradeRequired:   {http.StatusUpgradeRequired, "upgrade_required"},
	capability.CodeRateLimited:       {http.StatusTooManyRequests, "rate_limited"},
	capability.CodeRequestTooLarge:   {http.StatusRequestEntityTooLarge, "payload_too_large"},
	capability.CodeUnavailable:       {http.StatusServiceUnavailable, "unavailable"},
	capability.CodeStorageFull:       {http.StatusServiceUnavailable, "unavailable"},
	capability.CodeInternal:          {http.StatusInternalServerError, "internal_error"},
}

// writeAppError writes e as an envelope with the status its code maps to;
// an unmapped code is a server fault and says nothing more.
func writeAppError(w http.ResponseWriter, e *capability.Error, result any) {
	m, ok := statusFor[e.Code]
	if !ok {
		m = statusFor[capability.CodeInternal]
	}
	env := Envelope{Code: m.status, Type: m.typ, Detail: e.Message, Errors: fieldErrors(e.Issues), Error: e.Code, Result: result}
	if env.Detail == "" {
		env.Detail = e.Code
	}
	writeEnvelope(w, env)
}

// fieldErrors turns issues (JSON pointers into the arguments) into
// envelope entries located under "body".
func fieldErrors(issues []capability.Issue) []FieldError {
	out := make([]FieldError, 0, len(issues))
	for _, is := range issues {
		loc := []string{"body"}
		if is.Path != "" {
			for _, seg := range strings.Split(strings.TrimPrefix(is.Path, "/"), "/") {
				loc = append(loc, strings.ReplaceAll(strings.ReplaceAll(seg, "~1", "/"), "~0", "~"))
			}
		}
		typ := is.Keyword
		if typ == "" {
			typ = "value_error"
		}
		out = append(out, FieldError{Loc: loc, Msg: is.Message, Type: typ})
	}
	return out
}

// WriteError writes an envelope with no field errors.
func WriteError(w http.ResponseWriter, status int, typ, detail string) {
	writeEnvelope(w, Envelope{Code: status, Type: typ, Detail: detail, Errors: []FieldError{}})
}

// writeRetryAfter writes 429 with Retry-After in whole seconds (at least 1).
func writeRetryAfter(w http.ResponseWriter, wait time.Duration, detail string) {
	secs := int((wait + time.Second - 1) / time.Second)
	if secs < 1 {
		secs = 1
	}
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	WriteError(w, http.StatusTooManyRequests, "rate_limited", detail)
}

func writeEnvelope(w http.ResponseWriter, env Envelope) {
	if env.Errors == nil {
		env.Errors = []FieldError{}
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(env.Code)
	_ = json.NewEncoder(w).Encode(env)
}
