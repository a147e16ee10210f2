package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/capd-dev/capd/internal/capability"
	"github.com/capd-dev/capd/internal/tooldef"
)

// DefaultMaxBody is the request body limit when none is configured.
const DefaultMaxBody = 1 << 20

// DefaultWriteTimeout is the write deadline of an answer (other than an SSE
// stream) when Guard.WriteTimeout is zero: long enough for a 5 MiB artifact
// at about 60 KB/s.
const DefaultWriteTimeout = 2 * time.Minute

// queryCredentialNames are query parameters that commonly carry an API key.
// capd takes keys only from the Authorization header, and refuses a request
// that carries one of these rather than ignore it.
var queryCredentialNames = []string{"api_key", "key", "access_token", "token"}

// Guard wraps handlers with capd's request checks, in this order: Origin
// (403), no API key in the query string (400), body size (413), bearer key
// (401; an address that keeps failing is throttled with 429). Nothing is
// parsed before they pass. mcp-go checks none of these, so the MCP endpoint
// sits behind the same guard as the HTTP API. Call rates are the invoker's
// to limit, for every transport alike.
type Guard struct {
	Keys           capability.ControlStore
	AllowedOrigins []string // exact origins (scheme://host[:port]) allowed besides loopback
	MaxBody        int64    // 0 means DefaultMaxBody
	// BodyLimits lets named capabilities receive larger bodies than
	// MaxBody (an artifact upload, say): capability name -> bytes. Only a
	// call of that capability may use it, on the MCP endpoint or the tool
	// API; every other request still stops at MaxBody.
	BodyLimits map[string]int64
	// FailedAuthRate is how many failed authentications per second one
	// client address may make (burst FailedAuthBurst) before its requests
	// are refused with 429; 0 means unlimited.
	FailedAuthRate  float64
	FailedAuthBurst int
	// WriteTimeout is the write deadline of every answer but an SSE stream
	// (a GET that accepts text/event-stream, which MCP holds open), so a
	// client that stops reading does not hold its connection forever. The
	// HTTP server has no WriteTimeout of its own: it would cut those
	// streams. 0 means DefaultWriteTimeout; negative means none.
	WriteTimeout time.Duration
	Logger       *slog.Logger
	// Throttled, when set, is told of every request refused with 429
	// because its address failed to authenticate too often (metrics).
	Throttled func()

	mu       sync.Mutex
	failures map[string]*rate.Limiter // by client address
}

// Wrap returns h behind every check; h finds the principal in the request
// context (capability.PrincipalFrom).
func (g *Guard) Wrap(h http.Handler) http.Handler {
	return g.wrap(h, true)
}

// WrapOptional is Wrap for endpoints that serve anyone but narrow what they
// show when a key is given: no Authorization header passes without a
// principal, a bad key is still 401.
func (g *Guard) WrapOptional(h http.Handler) http.Handler {
	return g.wrap(h, false)
}

func (g *Guard) wrap(h http.Handler, required bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g.setWriteDeadline(w, r)
		if origin := r.Header.Get("Origin"); origin != "" && !g.originAllowed(origin) {
			WriteError(w, http.StatusForbidden, "forbidden", "Origin "+origin+" is not allowed; start capd with --allowed-origins "+origin+" to allow it")
			return
		}
		// A key in the URL is refused even beside a good Authorization
		// header: URLs end up in logs, proxies and browser history, and a
		// client that sends one should find out at once.
		if name, found := queryCredential(r.URL.RawQuery); found {
			writeEnvelope(w, Envelope{Code: http.StatusBadRequest, Type: "bad_request",
				Detail: "API keys go only in the Authorization header (Authorization: Bearer <key>), never in the URL: remove the " + name +
					" query parameter. The request was not authenticated; a key sent in a URL may have been logged, so revoke it (capd keys revoke PREFIX) and create another",
				Errors: []FieldError{{Loc: []string{"query", name}, Msg: "API keys are not accepted in the query string; use the Authorization header", Type: "credential_in_url"}}})
			return
		}
		if !g.limitBody(w, r) {
			return
		}
		token, present := bearer(r)
		if !present {
			if !required {
				h.ServeHTTP(w, r)
				return
			}
			w.Header().Set("WWW-Authenticate", `Bearer realm="capd"`)
			WriteError(w, http.StatusUnauthorized, "authentication_error", "Authentication credentials were not provided: send Authorization: Bearer <key> (create one with capd keys create --tenant SLUG)")
			return
		}
		addr := clientAddr(r)
		if wait, throttled := g.throttled(addr); throttled {
			if g.Throttled != nil {
				g.Throttled()
			}
			writeRetryAfter(w, wait, "too many failed authentications from this address; wait Retry-After seconds")
			return
		}
		p, err := g.Keys.Authenticate(r.Context(), token)
		if err != nil {
			var ae *capability.Error
			if errors.As(err, &ae) && ae.Code == capability.CodeUnauthenticated {
				g.logger().Warn("authentication failed", "request_id", requestID(r), "addr", addr, "reason", ae.Message)
				g.failed(addr)
				w.Header().Set("WWW-Authenticate", `Bearer realm="capd", error="invalid_token"`)
				WriteError(w, http.StatusUnauthorized, "authentication_error", "Authentication failed: "+ae.Message)
				return
			}
			g.logger().Error("authenticate", "err", err)
			WriteError(w, http.StatusInternalServerError, "internal_error", "the server could not check the API key; retry later")
			return
		}
		h.ServeHTTP(w, r.WithContext(capability.WithPrincipal(r.Context(), p)))
	})
}

// failureBucket is the failed-authentication bucket of one address.
func (g *Guard) failureBucket(addr string) *rate.Limiter {
	if g.failures == nil {
		g.failures = map[string]*rate.Limiter{}
	}
	b, ok := g.failures[addr]
	if !ok {
		burst := g.FailedAuthBurst
		if burst <= 0 {
			burst = max(1, int(10*g.FailedAuthRate))
		}
		b = rate.NewLimiter(rate.Limit(g.FailedAuthRate), burst)
		g.failures[addr] = b
	}
	return b
}

// throttled reports whether addr has used up its failed authentications.
func (g *Guard) throttled(addr string) (time.Duration, bool) {
	if g.FailedAuthRate <= 0 {
		return 0, false
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	b := g.failureBucket(addr)
	if b.Tokens() >= 1 {
		return 0, false
	}
	res := b.Reserve()
	wait := res.Delay()
	res.Cancel()
	return wait, true
}

// failed takes one token from addr's failed-authentication bucket.
func (g *Guard) failed(addr string) {
	if g.FailedAuthRate <= 0 {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.failureBucket(addr).Allow()
}

// clientAddr is the request's remote IP (no port). capd binds loopback by
// default and does not trust forwarding headers.
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// queryCredential returns the name of the first query parameter of
// rawQuery that carries an API key (case-insensitively, with or without a
// value, even in a pair url.ParseQuery would drop).
func queryCredential(rawQuery string) (string, bool) {
	if rawQuery == "" {
		return "", false
	}
	for _, pair := range strings.FieldsFunc(rawQuery, func(c rune) bool { return c == '&' || c == ';' }) {
		name, _, _ := strings.Cut(pair, "=")
		if unescaped, err := url.QueryUnescape(name); err == nil {
			name = unescaped
		}
		name = strings.TrimSpace(name)
		for _, c := range queryCredentialNames {
			if strings.EqualFold(name, c) {
				return c, true
			}
		}
	}
	return "", false
}

// setWriteDeadline bounds writing the answer to r unless r opens an SSE
// stream. Writers that cannot take a deadline (a test recorder) are left
// alone.
func (g *Guard) setWriteDeadline(w http.ResponseWriter, r *http.Request) {
	d := g.WriteTimeout
	if d == 0 {
		d = DefaultWriteTimeout
	}
	if d < 0 || (r.Method == http.MethodGet && strings.Contains(r.Header.Get("Accept"), "text/event-stream")) {
		return
	}
	_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(d))
}

// limitBody refuses a body over the limit with 413 before the handler
// parses anything: at once when Content-Length says so, otherwise by
// reading at most the largest allowed size plus one byte and replaying it.
// A body over MaxBody is allowed only when it calls a capability with a
// larger limit in BodyLimits (found from the tool API's path, or from the
// JSON-RPC request's params.name on the MCP endpoint).
func (g *Guard) limitBody(w http.ResponseWriter, r *http.Request) bool {
	limit := g.MaxBody
	if limit <= 0 {
		limit = DefaultMaxBody
	}
	ceiling := limit
	for _, n := range g.BodyLimits {
		ceiling = max(ceiling, n)
	}
	tooLarge := func(max int64) bool {
		w.Header().Set("Connection", "close")
		WriteError(w, http.StatusRequestEntityTooLarge, "payload_too_large", "request body is larger than the limit of "+strconv.FormatInt(max, 10)+" bytes")
		return false
	}
	if r.ContentLength > ceiling {
		return tooLarge(limit)
	}
	if r.Body == nil || r.Body == http.NoBody {
		return true
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, ceiling+1))
	if err != nil {
		WriteError(w, http.StatusBadRequest, "bad_request", "could not read the request body")
		return false
	}
	if n := int64(len(body)); n > limit {
		allowed := g.BodyLimits[calledCapability(r, body)]
		if n > allowed {
			return tooLarge(max(limit, allowed))
		}
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	return true
}

// calledCapability names the capability a request calls, or "".
func calledCapability(r *http.Request, body []byte) string {
	if ref, ok := strings.CutPrefix(r.URL.Path, "/api/v1/tools/"); ok {
		name, _, _ := strings.Cut(ref, "@")
		return tooldef.CapabilityName(name)
	}
	var call struct {
		Method string `json:"method"`
		Params struct {
			Name string `json:"name"`
		} `json:"params"`
	}
	if json.Unmarshal(body, &call) != nil || call.Method != "tools/call" {
		return ""
	}
	return call.Params.Name
}

func (g *Guard) originAllowed(origin string) bool {
	if slices.Contains(g.AllowedOrigins, origin) {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return false
	}
	return IsLoopbackHost(u.Hostname())
}

// IsLoopbackHost reports whether host names this machine's loopback.
func IsLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// bearer returns the token of an Authorization header; present is false
// when there is no Authorization header at all. A header in another scheme
// counts as present with an empty token, so it fails rather than passing
// as anonymous.
func bearer(r *http.Request) (token string, present bool) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return "", false
	}
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", true
	}
	return strings.TrimSpace(token), true
}

func (g *Guard) logger() *slog.Logger {
	if g.Logger != nil {
		return g.Logger
	}
	return slog.Default()
}

// WrapBrowser is Wrap for pages people open in a browser, which cannot send
// a bearer header: it also takes the key as the password of HTTP Basic
// authentication (any user name), and its 401 asks the browser for it.
func (g *Guard) WrapBrowser(h http.Handler) http.Handler {
	inner := g.wrap(h, true)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, key, ok := r.BasicAuth(); ok {
			r = r.Clone(r.Context())
			r.Header.Set("Authorization", "Bearer "+key)
		}
		inner.ServeHTTP(&basicChallenge{ResponseWriter: w}, r)
	})
}

// basicChallenge turns a 401's challenge into HTTP Basic, so a browser
// shows its sign-in prompt; the key goes in the password field.
type basicChallenge struct{ http.ResponseWriter }

// Unwrap lets http.ResponseController reach the connection (deadlines,
// flushing) through the wrapper.
func (b *basicChallenge) Unwrap() http.ResponseWriter { return b.ResponseWriter }

func (b *basicChallenge) WriteHeader(status int) {
	if status == http.StatusUnauthorized {
		b.Header().Set("WWW-Authenticate", `Basic realm="capd catalog: paste an API key as the password"`)
	}
	b.ResponseWriter.WriteHeader(status)
}
