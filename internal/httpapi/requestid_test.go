package httpapi_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/capd-dev/capd/internal/httpapi"
	"github.com/capd-dev/capd/internal/invoke"
)

// TestRequestID checks which X-Request-Id values are kept, that a new id
// replaces the rest, and that the id reaches the handler and the answer.
func TestRequestID(t *testing.T) {
	var seen string
	h := httpapi.WithRequestID(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, _ := invoke.RequestFrom(r.Context())
		seen = req.ID
	}))
	serve := func(id string, set bool) string {
		r := httptest.NewRequest(http.MethodGet, "/healthz", nil)
		if set {
			r.Header.Set(httpapi.RequestIDHeader, id)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		echoed := w.Header().Get(httpapi.RequestIDHeader)
		assert.Equal(t, seen, echoed, "the handler sees the id the answer echoes")
		return echoed
	}
	for _, id := range []string{"abc", "0f8fad5b-d9cb-469f-a165-70867728950e", "trace:1/2+3=4@x", strings.Repeat("r", httpapi.MaxRequestIDLen)} {
		t.Run("OKKept", func(t *testing.T) { assert.Equal(t, id, serve(id, true)) })
	}
	for name, id := range map[string]string{
		"Empty":    "",
		"TooLong":  strings.Repeat("r", httpapi.MaxRequestIDLen+1),
		"Space":    "two words",
		"Control":  "a\tb",
		"NonASCII": "café",
		"Newline":  "a\nlevel=ERROR msg=forged",
		"Delete":   "\x7f",
	} {
		t.Run("ErrReplaced"+name, func(t *testing.T) {
			got := serve(id, true)
			assert.NotEqual(t, id, got)
			assert.Regexp(t, `^[a-z2-7]{20}$`, got)
		})
	}
	t.Run("OKMadeUpWhenAbsent", func(t *testing.T) {
		first, second := serve("", false), serve("", false)
		assert.Regexp(t, `^[a-z2-7]{20}$`, first)
		assert.NotEqual(t, first, second)
	})
}
