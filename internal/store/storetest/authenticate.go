package storetest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/capd-dev/capd/internal/capability"
)

// testAuthenticate covers Authenticate: a live token gives its principal;
// a missing, malformed, unknown, revoked or expired one is unauthenticated,
// and without the secret every failure reads the same.
func testAuthenticate(t *testing.T, e *env) {
	ctx := context.Background()
	c := e.Control
	require.NoError(t, c.CreateTenant(ctx, &capability.Tenant{Slug: "auth"}))
	token, key, err := c.CreateKey(ctx, "auth", readWrite, time.Time{})
	require.NoError(t, err)

	// invalid is the answer for a token whose secret does not match: the
	// same whether the prefix is real or not.
	_, err = c.Authenticate(ctx, "capd_aaaaaaaa_"+strings.Repeat("b", 52))
	requireCode(t, capability.CodeUnauthenticated, err)
	invalid := capability.AsError(err).Message

	t.Run("OK", func(t *testing.T) {
		p, err := c.Authenticate(ctx, token)
		require.NoError(t, err)
		require.Equal(t, capability.Principal{
			Tenant:    "auth",
			KeyPrefix: key.Prefix,
			Scopes:    []capability.Scope{capability.ScopeProjectsRead, capability.ScopeProjectsWrite},
		}, p)
	})

	t.Run("OKWithExpiry", func(t *testing.T) {
		expires := e.clock.Peek().Add(time.Hour)
		tok, _, err := c.CreateKey(ctx, "auth", readOnly, expires)
		require.NoError(t, err)
		p, err := c.Authenticate(ctx, tok)
		require.NoError(t, err)
		requireInstant(t, expires, p.ExpiresAt)
		require.True(t, p.Allows(capability.ScopeProjectsRead))
		require.False(t, p.Allows(capability.ScopeProjectsWrite))
	})

	t.Run("ErrExpired", func(t *testing.T) {
		tok, _, err := c.CreateKey(ctx, "auth", readOnly, e.clock.Peek().Add(time.Minute))
		require.NoError(t, err)
		_, err = c.Authenticate(ctx, tok)
		require.NoError(t, err, "live until its expiry")
		e.clock.Advance(time.Minute)
		_, err = c.Authenticate(ctx, tok)
		requireCode(t, capability.CodeUnauthenticated, err)
		require.NotEqual(t, invalid, capability.AsError(err).Message, "the holder of the real token learns it expired")
	})

	t.Run("ErrMissing", func(t *testing.T) {
		_, err := c.Authenticate(ctx, "")
		requireCode(t, capability.CodeUnauthenticated, err)
	})

	t.Run("ErrUnknown", func(t *testing.T) {
		forged := "capd_" + key.Prefix + "_" + strings.Repeat("a", 52) // real prefix, wrong secret
		_, err := c.Authenticate(ctx, forged)
		requireCode(t, capability.CodeUnauthenticated, err)
		require.Equal(t, invalid, capability.AsError(err).Message, "reveals nothing about the real key")
	})

	t.Run("ErrMalformed", func(t *testing.T) {
		for _, tok := range []string{
			"x",
			strings.ToUpper(token),
			token + "a",
			token[:len(token)-1],
			"capd-" + token[5:],
			"capd_" + key.Prefix + "-" + token[14:],
			token[:20] + "1" + token[21:], // '1' is not base32
			"Bearer " + token,
			" " + token,
			"capd_' OR '1'='1_" + strings.Repeat("a", 45),
			"capd_" + key.Prefix + "_" + strings.Repeat("a", 51) + "\x00",
		} {
			_, err := c.Authenticate(ctx, tok)
			requireCode(t, capability.CodeUnauthenticated, err, "token %q", tok)
			require.Equal(t, invalid, capability.AsError(err).Message, "token %q", tok)
		}
	})

	t.Run("ErrRevoked", func(t *testing.T) {
		tok, k, err := c.CreateKey(ctx, "auth", readOnly, time.Time{})
		require.NoError(t, err)
		require.NoError(t, c.RevokeKey(ctx, k.Prefix))
		_, err = c.Authenticate(ctx, tok)
		requireCode(t, capability.CodeUnauthenticated, err)
		require.NotEqual(t, invalid, capability.AsError(err).Message, "the holder of the real token learns it was revoked")
		_, err = c.Authenticate(ctx, token)
		require.NoError(t, err, "another key of the tenant is unaffected")
	})
}
