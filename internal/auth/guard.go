// Package auth guards capd's HTTP endpoints: it checks the Origin header,
// bounds the request body and authenticates the bearer API key before a
// request reaches a handler, and writes the canonical error envelope when it
// refuses one.
package auth

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

	"github.com/capd-dev/capd/internal/capability"
)

// DefaultMaxBody is the request body limit when none is configured.
const DefaultMaxBody = 1 << 20

// Guard wraps handlers with capd's request checks, in this order: Origin
// (403), body size (413), bearer key (401). Nothing is parsed before all
// three pass.
type Guard struct {
	Keys           capability.ControlStore
	AllowedOrigins []string // exact origins (scheme://host[:port]) allowed besides loopback
	MaxBody        int64    // 0 means DefaultMaxBody
	Logger         *slog.Logger
}

// Wrap returns h behind the guard; h finds the principal in the request
// context (capability.PrincipalFrom).
func (g *Guard) Wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if origin := r.Header.Get("Origin"); origin != "" && !g.originAllowed(origin) {
			WriteError(w, http.StatusForbidden, "forbidden", "Origin "+origin+" is not allowed; start capd with --allowed-origins "+origin+" to allow it")
			return
		}
		if !g.limitBody(w, r) {
			return
		}
		token, ok := bearer(r)
		if !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="capd"`)
			WriteError(w, http.StatusUnauthorized, "authentication_error", "missing API key: send Authorization: Bearer <key> (create one with capd keys create --tenant SLUG)")
			return
		}
		p, err := g.Keys.Authenticate(r.Context(), token)
		if err != nil {
			w.Header().Set("WWW-Authenticate", `Bearer realm="capd", error="invalid_token"`)
			var ae *capability.Error
			if errors.As(err, &ae) && ae.Code == capability.CodeUnauthenticated {
				WriteError(w, http.StatusUnauthorized, "authentication_error", ae.Message)
				return
			}
			g.logger().Error("authenticate", "err", err)
			WriteError(w, http.StatusInternalServerError, "server_error", "authentication failed on the server; retry later")
			return
		}
		h.ServeHTTP(w, r.WithContext(capability.WithPrincipal(r.Context(), p)))
	})
}

// limitBody refuses a body over the limit with 413 before anything parses
// it: at once when Content-Length says so, otherwise by reading at most
// limit+1 bytes and replaying them to the handler.
func (g *Guard) limitBody(w http.ResponseWriter, r *http.Request) bool {
	limit := g.MaxBody
	if limit <= 0 {
		limit = DefaultMaxBody
	}
	tooLarge := func() bool {
		w.Header().Set("Connection", "close")
		WriteError(w, http.StatusRequestEntityTooLarge, "request_too_large", "request body is larger than the limit of "+strconv.FormatInt(limit, 10)+" bytes")
		return false
	}
	if r.ContentLength > limit {
		return tooLarge()
	}
	if r.Body == nil || r.Body == http.NoBody {
		return true
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		WriteError(w, http.StatusBadRequest, "bad_request", "could not read the request body")
		return false
	}
	if int64(len(body)) > limit {
		return tooLarge()
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	return true
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

func bearer(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

func (g *Guard) logger() *slog.Logger {
	if g.Logger != nil {
		return g.Logger
	}
	return slog.Default()
}

// Envelope is capd's canonical HTTP error body.
type Envelope struct {
	Code   int          `json:"code"`
	Detail string       `json:"detail"`
	Type   string       `json:"type"`
	Errors []FieldError `json:"errors,omitempty"`
}

// FieldError locates one validation problem.
type FieldError struct {
	Loc  []string `json:"loc"`
	Msg  string   `json:"msg"`
	Type string   `json:"type"`
}

// WriteError writes the canonical error envelope with status.
func WriteError(w http.ResponseWriter, status int, typ, detail string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(Envelope{Code: status, Detail: detail, Type: typ})
}
