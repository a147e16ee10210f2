package httpapi_test

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/capd-dev/capd/internal/httpapi"
)

// TestGuardRefusesKeysInQueryString: a query parameter that carries an API
// key is refused with 400 whatever its spelling, with or without a good
// Authorization header, and never authenticates; other parameters pass.
func TestGuardRefusesKeysInQueryString(t *testing.T) {
	e := newEnv(t)
	for _, query := range []string{
		"api_key=" + e.fullA,
		"key=" + e.fullA,
		"access_token=" + e.fullA,
		"token=" + e.fullA,
		"Access_Token=" + e.fullA,
		"api%5Fkey=" + e.fullA, // escaped name
		"q=x;token=" + e.fullA, // a pair url.ParseQuery would drop
		"limit=1&key",          // no value
		"token=",
	} {
		for _, key := range []string{"", e.fullA} {
			res, out := e.do(t, http.MethodPost, "/api/v1/tools/projects.create_project?"+query, key, `{"name":"Query `+query+`"}`, nil)
			require.Equal(t, http.StatusBadRequest, res.StatusCode, "%s (header: %t): %v", query, key != "", out)
			assert.Equal(t, "bad_request", out["type"])
			assert.Contains(t, out["detail"], "Authorization header")
			assert.Len(t, locs(out), 1)
			assert.Empty(t, res.Header.Get("WWW-Authenticate"))
		}
		res, _ := e.do(t, http.MethodGet, "/api/v1/capabilities?"+query, "", "", nil)
		assert.Equal(t, http.StatusBadRequest, res.StatusCode, "the read API too: %s", query)
	}
	_, out := e.do(t, http.MethodPost, "/api/v1/tools/projects.list_projects", e.fullA, `{"query":"Query","limit":100}`, nil)
	assert.Empty(t, out["items"], "no refused request created anything")

	for _, query := range []string{"q=token", "keys=1", "monkey=1", "tokens=2", "scope=projects.read"} {
		res, out := e.do(t, http.MethodGet, "/api/v1/capabilities?"+query, e.fullA, "", nil)
		assert.Equal(t, http.StatusOK, res.StatusCode, "%s: %v", query, out)
	}
}

// TestGuardWriteDeadline: a client that stops reading is dropped once the
// guard's write deadline passes, except on an SSE stream (a GET accepting
// text/event-stream), which MCP holds open for as long as the client wants.
func TestGuardWriteDeadline(t *testing.T) {
	const deadline = 300 * time.Millisecond
	type outcome struct {
		err  error
		took time.Duration
	}
	results := make(chan outcome, 1)
	g := &httpapi.Guard{WriteTimeout: deadline}
	srv := httptest.NewServer(g.WrapOptional(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		chunk := make([]byte, 64<<10)
		var err error
		for time.Since(start) < 2*time.Second && err == nil {
			_, err = w.Write(chunk) // the client never reads: this blocks once the buffers fill
		}
		results <- outcome{err, time.Since(start)}
	})))
	t.Cleanup(srv.Close)

	slowReader := func(accept string) outcome {
		t.Helper()
		conn, err := net.Dial("tcp", srv.Listener.Addr().String())
		require.NoError(t, err)
		defer conn.Close()
		_, err = fmt.Fprintf(conn, "GET /stream HTTP/1.1\r\nHost: %s\r\nAccept: %s\r\n\r\n", srv.Listener.Addr(), accept)
		require.NoError(t, err)
		select {
		case o := <-results:
			return o
		case <-time.After(1500 * time.Millisecond):
			conn.Close() // unblock the handler
			return <-results
		}
	}

	t.Run("ErrSlowReaderDropped", func(t *testing.T) {
		o := slowReader("application/json")
		require.Error(t, o.err, "the write never failed")
		assert.Less(t, o.took, 1200*time.Millisecond, "dropped only after %s", o.took)
	})
	t.Run("OKStreamHasNoDeadline", func(t *testing.T) {
		o := slowReader("text/event-stream")
		assert.GreaterOrEqual(t, o.took, 1200*time.Millisecond, "an SSE stream was cut after %s: %v", o.took, o.err)
	})
}
