package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/capd-dev/capd/internal/capability"
)

var (
	readWrite = []capability.Scope{capability.ScopeProjectsWrite, capability.ScopeProjectsRead}
	readOnly  = []capability.Scope{capability.ScopeProjectsRead}
)

// testKeys covers creating, listing, revoking and pinning API keys, and a
// second opener of the same database seeing each change at once.
func testKeys(t *testing.T, e *env) {
	ctx := context.Background()
	c := e.Control
	for _, slug := range []string{"acme", "tenant-a", "tenant-b", "keyless"} {
		require.NoError(t, c.CreateTenant(ctx, &capability.Tenant{Slug: slug}))
	}

	t.Run("OKCreate", func(t *testing.T) {
		want := e.clock.Peek()
		token, key, err := c.CreateKey(ctx, "acme", readWrite, time.Time{})
		require.NoError(t, err)
		require.Regexp(t, `^capd_[a-z2-7]{8}_[a-z2-7]{52}$`, token)
		require.Equal(t, "capd_"+key.Prefix+"_", token[:14])
		require.Equal(t, "acme", key.Tenant)
		require.Equal(t, []capability.Scope{capability.ScopeProjectsRead, capability.ScopeProjectsWrite}, key.Scopes, "sorted")
		requireInstant(t, want, key.CreatedAt)
		require.True(t, key.ExpiresAt.IsZero())
		require.True(t, key.RevokedAt.IsZero())
		keys, err := c.ListKeys(ctx, "acme")
		require.NoError(t, err)
		require.Equal(t, []*capability.APIKey{key}, keys, "what the caller holds is what a listing returns")
	})

	t.Run("OKCreateWithExpiry", func(t *testing.T) {
		expires := e.clock.Peek().Add(time.Hour)
		_, key, err := c.CreateKey(ctx, "acme", readOnly, expires)
		require.NoError(t, err)
		requireInstant(t, expires, key.ExpiresAt)
		keys, err := c.ListKeys(ctx, "acme")
		require.NoError(t, err)
		require.Equal(t, key, keys[len(keys)-1])
	})

	t.Run("OKScopesDeduplicated", func(t *testing.T) {
		_, key, err := c.CreateKey(ctx, "acme", []capability.Scope{capability.ScopeProjectsRead, capability.ScopeProjectsRead}, time.Time{})
		require.NoError(t, err)
		require.Equal(t, readOnly, key.Scopes)
	})

	t.Run("OKTokensDiffer", func(t *testing.T) {
		t1, k1, err := c.CreateKey(ctx, "acme", readOnly, time.Time{})
		require.NoError(t, err)
		t2, k2, err := c.CreateKey(ctx, "acme", readOnly, time.Time{})
		require.NoError(t, err)
		require.NotEqual(t, t1, t2)
		require.NotEqual(t, k1.Prefix, k2.Prefix)
	})

	t.Run("ErrCreateUnknownTenant", func(t *testing.T) {
		_, _, err := c.CreateKey(ctx, "ghost", readOnly, time.Time{})
		requireCode(t, capability.CodeNotFound, err)
		require.Contains(t, capability.AsError(err).Message, "ghost", "names the tenant")
	})

	t.Run("ErrCreateNoScopes", func(t *testing.T) {
		for _, scopes := range [][]capability.Scope{nil, {}} {
			_, _, err := c.CreateKey(ctx, "acme", scopes, time.Time{})
			requireCode(t, capability.CodeInvalidInput, err)
		}
	})

	t.Run("ErrCreateUnknownScope", func(t *testing.T) {
		_, _, err := c.CreateKey(ctx, "acme", []capability.Scope{capability.ScopeProjectsRead, "projects.admin"}, time.Time{})
		requireCode(t, capability.CodeInvalidInput, err)
	})

	t.Run("ErrCreateExpiryNotInFuture", func(t *testing.T) {
		for _, at := range []time.Time{e.clock.Peek().Add(-time.Second), e.clock.Peek().Add(-time.Microsecond)} {
			_, _, err := c.CreateKey(ctx, "acme", readOnly, at)
			requireCode(t, capability.CodeInvalidInput, err)
		}
	})

	var aPrefixes []string
	t.Run("OKListOldestFirstOwnTenantOnly", func(t *testing.T) {
		for range 3 {
			_, k, err := c.CreateKey(ctx, "tenant-a", readOnly, time.Time{})
			require.NoError(t, err)
			aPrefixes = append(aPrefixes, k.Prefix)
		}
		_, bKey, err := c.CreateKey(ctx, "tenant-b", readWrite, time.Time{})
		require.NoError(t, err)

		keys, err := c.ListKeys(ctx, "tenant-a")
		require.NoError(t, err)
		var got []string
		for _, k := range keys {
			got = append(got, k.Prefix)
			require.Equal(t, "tenant-a", k.Tenant)
			require.Equal(t, readOnly, k.Scopes)
			require.True(t, k.RevokedAt.IsZero())
			require.True(t, k.LastUsed.IsZero())
			require.Nil(t, k.Pins)
		}
		require.Equal(t, aPrefixes, got)

		keys, err = c.ListKeys(ctx, "tenant-b")
		require.NoError(t, err)
		require.Equal(t, []string{bKey.Prefix}, ids(keys, func(k *capability.APIKey) string { return k.Prefix }))
	})

	t.Run("OKListEmpty", func(t *testing.T) {
		keys, err := c.ListKeys(ctx, "keyless")
		require.NoError(t, err)
		require.Empty(t, keys)
	})

	t.Run("ErrListUnknownTenant", func(t *testing.T) {
		_, err := c.ListKeys(ctx, "ghost")
		requireCode(t, capability.CodeNotFound, err)
	})

	t.Run("OKRevokeTwiceKeepsFirstTime", func(t *testing.T) {
		_, k, err := c.CreateKey(ctx, "keyless", readOnly, time.Time{})
		require.NoError(t, err)
		first := e.clock.Peek()
		require.NoError(t, c.RevokeKey(ctx, k.Prefix))
		require.NoError(t, c.RevokeKey(ctx, k.Prefix))
		keys, err := c.ListKeys(ctx, "keyless")
		require.NoError(t, err)
		require.Len(t, keys, 1)
		requireInstant(t, first, keys[0].RevokedAt)
	})

	t.Run("OKRevokeByDisplayedFormOrToken", func(t *testing.T) {
		for _, form := range []func(token, prefix string) string{
			func(_, prefix string) string { return "capd_" + prefix },
			func(token, _ string) string { return token },
		} {
			tok, k, err := c.CreateKey(ctx, "acme", readOnly, time.Time{})
			require.NoError(t, err)
			require.NoError(t, c.RevokeKey(ctx, form(tok, k.Prefix)))
			_, err = c.Authenticate(ctx, tok)
			requireCode(t, capability.CodeUnauthenticated, err)
		}
	})

	t.Run("ErrRevokeNotFound", func(t *testing.T) {
		for _, prefix := range []string{"zzzzzzzz", "", "capd_zzzzzzzz"} {
			require.ErrorIs(t, c.RevokeKey(ctx, prefix), capability.ErrNotFound, "prefix %q", prefix)
		}
	})

	t.Run("Authenticate", func(t *testing.T) { testAuthenticate(t, e) })
	t.Run("Pins", func(t *testing.T) { testPins(t, e) })
	t.Run("OpenAgain", func(t *testing.T) { testKeysOpenAgain(t, e) })
}

// testPins covers PinKey: pins come back on authentication and in
// listings, replace earlier ones, and clear.
func testPins(t *testing.T, e *env) {
	ctx := context.Background()
	c := e.Control
	require.NoError(t, c.CreateTenant(ctx, &capability.Tenant{Slug: "pinned"}))
	token, key, err := c.CreateKey(ctx, "pinned", capability.AllScopes, time.Time{})
	require.NoError(t, err)
	requirePins := func(t *testing.T, want map[string]string) {
		t.Helper()
		p, err := c.Authenticate(ctx, token)
		require.NoError(t, err)
		require.Equal(t, want, p.Pins)
		keys, err := c.ListKeys(ctx, "pinned")
		require.NoError(t, err)
		require.Equal(t, want, keys[0].Pins)
	}

	t.Run("OK", func(t *testing.T) {
		pins := map[string]string{"projects.create_task": "0.1.0", "projects.get_task": "0.2.0"}
		require.NoError(t, c.PinKey(ctx, key.Prefix, pins))
		requirePins(t, pins)
	})

	t.Run("OKReplaces", func(t *testing.T) {
		pins := map[string]string{"projects.list_tasks": "0.2.0"}
		require.NoError(t, c.PinKey(ctx, key.Prefix, pins))
		requirePins(t, pins)
	})

	t.Run("OKClear", func(t *testing.T) {
		for _, none := range []map[string]string{nil, {}} {
			require.NoError(t, c.PinKey(ctx, key.Prefix, map[string]string{"a.b": "1.0.0"}))
			require.NoError(t, c.PinKey(ctx, key.Prefix, none))
			requirePins(t, nil)
		}
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		require.ErrorIs(t, c.PinKey(ctx, "zzzzzzzz", map[string]string{"a.b": "0.1.0"}), capability.ErrNotFound)
	})

	t.Run("ErrInvalid", func(t *testing.T) {
		require.NoError(t, c.PinKey(ctx, key.Prefix, map[string]string{"a.b": "1.0.0"}))
		for _, pins := range []map[string]string{{"a.b": "0.1.0,x"}, {"a@b": "0.1.0"}, {"": "0.1.0"}, {"a.b": ""}, {"a,b": "0.1.0"}} {
			requireCode(t, capability.CodeInvalidInput, c.PinKey(ctx, key.Prefix, pins), "pins %v", pins)
		}
		requirePins(t, map[string]string{"a.b": "1.0.0"})
	})
}

// testKeysOpenAgain: nothing about keys or tenants is cached, so another
// process or node sees a key created or revoked elsewhere on its next
// request.
func testKeysOpenAgain(t *testing.T, e *env) {
	ctx := context.Background()
	require.NotNil(t, e.OpenAgain, "Stores.OpenAgain is required")
	other := e.OpenAgain(t, e.opts).Control
	token, key, err := e.Control.CreateKey(ctx, "acme", readWrite, time.Time{})
	require.NoError(t, err)

	t.Run("OKKeyCreatedElsewhereWorksAtOnce", func(t *testing.T) {
		p, err := other.Authenticate(ctx, token)
		require.NoError(t, err)
		require.Equal(t, "acme", p.Tenant)
		tok, _, err := other.CreateKey(ctx, "acme", readOnly, time.Time{})
		require.NoError(t, err)
		_, err = e.Control.Authenticate(ctx, tok)
		require.NoError(t, err)
	})

	t.Run("ErrDuplicateTenantElsewhere", func(t *testing.T) {
		requireCode(t, capability.CodeAlreadyExists, other.CreateTenant(ctx, &capability.Tenant{Slug: "acme"}))
	})

	t.Run("ErrRevokedElsewhere", func(t *testing.T) {
		require.NoError(t, other.RevokeKey(ctx, key.Prefix))
		_, err := e.Control.Authenticate(ctx, token)
		requireCode(t, capability.CodeUnauthenticated, err)
	})
}
