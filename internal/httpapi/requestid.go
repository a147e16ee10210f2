package httpapi

import (
	"net/http"

	"github.com/capd-dev/capd/internal/invoke"
)

// RequestIDHeader carries a request's id both ways.
const RequestIDHeader = "X-Request-Id"

// MaxRequestIDLen bounds a client's X-Request-Id; a longer one is replaced.
const MaxRequestIDLen = 128

// WithRequestID gives every request an id: the client's X-Request-Id when
// it is usable (1 to MaxRequestIDLen visible ASCII characters, so it cannot
// bloat or break a log line), otherwise a new one. The id is echoed in the
// answer's X-Request-Id header, and put in the request context
// (invoke.RequestFrom) for the call's log line.
func WithRequestID(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get(RequestIDHeader)
		if !ValidRequestID(id) {
			id = invoke.NewRequestID()
		}
		w.Header().Set(RequestIDHeader, id)
		h.ServeHTTP(w, r.WithContext(invoke.WithRequest(r.Context(), invoke.Request{ID: id})))
	})
}

// ValidRequestID reports whether a client's request id can be kept:
// 1 to MaxRequestIDLen characters, each visible ASCII (no spaces, no
// control characters, nothing beyond ASCII).
func ValidRequestID(id string) bool {
	if id == "" || len(id) > MaxRequestIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; c < 0x21 || c > 0x7e {
			return false
		}
	}
	return true
}

// requestID is the id of r's request, or "" outside WithRequestID.
func requestID(r *http.Request) string {
	req, _ := invoke.RequestFrom(r.Context())
	return req.ID
}
