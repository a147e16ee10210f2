package sqlite

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/capd-dev/capd/internal/capability"
	"github.com/capd-dev/capd/internal/store/storecore"
)

var (
	readWrite = []capability.Scope{capability.ScopeProjectsWrite, capability.ScopeProjectsRead}
	readOnly  = []capability.Scope{capability.ScopeProjectsRead}
)

// requireUnauthenticated asserts err is an unauthenticated application error.
func requireUnauthenticated(t *testing.T, err error) {
	t.Helper()
	require.Equal(t, capability.CodeUnauthenticated, capability.ErrorCode(err), "error: %v", err)
}

func TestCreateKey(t *testing.T) {
	ctx := context.Background()
	db, clock := openTestDB(t, Options{})
	control := db.Control()
	require.NoError(t, control.CreateTenant(ctx, &capability.Tenant{Slug: "acme"}))

	t.Run("OK", func(t *testing.T) {
		want := clock.Peek().UTC()
		token, key, err := control.CreateKey(ctx, "acme", readWrite, time.Time{})
		require.NoError(t, err)
		require.Regexp(t, regexp.MustCompile(`^capd_[a-z2-7]{8}_[a-z2-7]{52}$`), token)
		require.Equal(t, "capd_"+key.Prefix+"_", token[:14])
		require.Equal(t, "acme", key.Tenant)
		require.Equal(t, []capability.Scope{capability.ScopeProjectsRead, capability.ScopeProjectsWrite}, key.Scopes, "sorted")
		require.Equal(t, want, key.CreatedAt)
		require.True(t, key.ExpiresAt.IsZero())
	})

	t.Run("OKTokensDiffer", func(t *testing.T) {
		t1, k1, err := control.CreateKey(ctx, "acme", readOnly, time.Time{})
		require.NoError(t, err)
		t2, k2, err := control.CreateKey(ctx, "acme", readOnly, time.Time{})
		require.NoError(t, err)
		require.NotEqual(t, t1, t2)
		require.NotEqual(t, k1.Prefix, k2.Prefix)
	})

	t.Run("ErrUnknownTenant", func(t *testing.T) {
		_, _, err := control.CreateKey(ctx, "ghost", readOnly, time.Time{})
		require.Equal(t, capability.CodeNotFound, capability.ErrorCode(err))
		require.Contains(t, capability.AsError(err).Message, "ghost", "names the tenant")
	})

	t.Run("ErrNoScopes", func(t *testing.T) {
		_, _, err := control.CreateKey(ctx, "acme", nil, time.Time{})
		require.Equal(t, capability.CodeInvalidInput, capability.ErrorCode(err))
	})

	t.Run("ErrUnknownScope", func(t *testing.T) {
		_, _, err := control.CreateKey(ctx, "acme", []capability.Scope{"projects.admin"}, time.Time{})
		require.Equal(t, capability.CodeInvalidInput, capability.ErrorCode(err))
	})

	t.Run("ErrExpiryInPast", func(t *testing.T) {
		_, _, err := control.CreateKey(ctx, "acme", readOnly, clock.Peek().Add(-time.Second))
		require.Equal(t, capability.CodeInvalidInput, capability.ErrorCode(err))
	})
}

func TestAuthenticate(t *testing.T) {
	ctx := context.Background()
	db, clock := openTestDB(t, Options{})
	control := db.Control()
	require.NoError(t, control.CreateTenant(ctx, &capability.Tenant{Slug: "acme"}))
	token, key, err := control.CreateKey(ctx, "acme", readWrite, time.Time{})
	require.NoError(t, err)

	t.Run("OK", func(t *testing.T) {
		p, err := control.Authenticate(ctx, token)
		require.NoError(t, err)
		require.Equal(t, capability.Principal{
			Tenant:    "acme",
			KeyPrefix: key.Prefix,
			Scopes:    []capability.Scope{capability.ScopeProjectsRead, capability.ScopeProjectsWrite},
		}, p)
	})

	t.Run("OKWithExpiry", func(t *testing.T) {
		expires := clock.Peek().Add(time.Hour)
		tok, _, err := control.CreateKey(ctx, "acme", readOnly, expires)
		require.NoError(t, err)
		p, err := control.Authenticate(ctx, tok)
		require.NoError(t, err)
		require.True(t, expires.Equal(p.ExpiresAt))
		require.True(t, p.Allows(capability.ScopeProjectsRead))
		require.False(t, p.Allows(capability.ScopeProjectsWrite))
	})

	t.Run("ErrExpired", func(t *testing.T) {
		tok, _, err := control.CreateKey(ctx, "acme", readOnly, clock.Peek().Add(time.Minute))
		require.NoError(t, err)
		clock.Advance(time.Minute)
		_, err = control.Authenticate(ctx, tok)
		requireUnauthenticated(t, err)
	})

	t.Run("ErrMissing", func(t *testing.T) {
		_, err := control.Authenticate(ctx, "")
		requireUnauthenticated(t, err)
	})

	t.Run("ErrUnknown", func(t *testing.T) {
		forged := "capd_" + key.Prefix + "_" + strings.Repeat("a", 52) // real prefix, wrong secret
		_, err := control.Authenticate(ctx, forged)
		requireUnauthenticated(t, err)
		require.Equal(t, storecore.InvalidToken, capability.AsError(err).Message, "reveals nothing about the real key")

		_, err = control.Authenticate(ctx, "capd_aaaaaaaa_"+strings.Repeat("b", 52))
		requireUnauthenticated(t, err)
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
		} {
			_, err := control.Authenticate(ctx, tok)
			requireUnauthenticated(t, err)
		}
	})

	t.Run("ErrRevoked", func(t *testing.T) {
		tok, k, err := control.CreateKey(ctx, "acme", readOnly, time.Time{})
		require.NoError(t, err)
		require.NoError(t, control.RevokeKey(ctx, k.Prefix))
		_, err = control.Authenticate(ctx, tok)
		requireUnauthenticated(t, err)
		// Another key of the tenant is unaffected.
		_, err = control.Authenticate(ctx, token)
		require.NoError(t, err)
	})
}

func TestRevokeKey(t *testing.T) {
	ctx := context.Background()
	db, clock := openTestDB(t, Options{})
	control := db.Control()
	require.NoError(t, control.CreateTenant(ctx, &capability.Tenant{Slug: "acme"}))

	t.Run("OKTwiceKeepsFirstTime", func(t *testing.T) {
		_, k, err := control.CreateKey(ctx, "acme", readOnly, time.Time{})
		require.NoError(t, err)
		first := clock.Peek().UTC()
		require.NoError(t, control.RevokeKey(ctx, k.Prefix))
		require.NoError(t, control.RevokeKey(ctx, k.Prefix))
		keys, err := control.ListKeys(ctx, "acme")
		require.NoError(t, err)
		require.Equal(t, first, keys[len(keys)-1].RevokedAt)
	})

	t.Run("OKDisplayedFormAndToken", func(t *testing.T) {
		for _, form := range []func(token, prefix string) string{
			func(_, prefix string) string { return "capd_" + prefix },
			func(token, _ string) string { return token },
		} {
			tok, k, err := control.CreateKey(ctx, "acme", readOnly, time.Time{})
			require.NoError(t, err)
			require.NoError(t, control.RevokeKey(ctx, form(tok, k.Prefix)))
			_, err = control.Authenticate(ctx, tok)
			requireUnauthenticated(t, err)
		}
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		require.ErrorIs(t, control.RevokeKey(ctx, "zzzzzzzz"), capability.ErrNotFound)
		require.ErrorIs(t, control.RevokeKey(ctx, ""), capability.ErrNotFound)
	})
}

func TestRevokeKeyFromAnotherProcess(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	server, _ := openTestDB(t, Options{Dir: dir})
	require.NoError(t, server.Control().CreateTenant(ctx, &capability.Tenant{Slug: "acme"}))
	token, key, err := server.Control().CreateKey(ctx, "acme", readWrite, time.Time{})
	require.NoError(t, err)
	_, err = server.Control().Authenticate(ctx, token)
	require.NoError(t, err)

	// The CLI opens the same directory separately, as another process would.
	cli, err := Open(ctx, Options{Dir: dir})
	require.NoError(t, err)

	t.Run("OKKeyCreatedElsewhereWorksAtOnce", func(t *testing.T) {
		tok, _, err := cli.Control().CreateKey(ctx, "acme", readOnly, time.Time{})
		require.NoError(t, err)
		_, err = server.Control().Authenticate(ctx, tok)
		require.NoError(t, err)
	})

	t.Run("ErrRevokedElsewhere", func(t *testing.T) {
		require.NoError(t, cli.Control().RevokeKey(ctx, key.Prefix))
		require.NoError(t, cli.Close())
		_, err := server.Control().Authenticate(ctx, token)
		requireUnauthenticated(t, err)
	})
}

func TestListKeys(t *testing.T) {
	ctx := context.Background()
	db, _ := openTestDB(t, Options{})
	control := db.Control()
	for _, slug := range []string{"tenant-a", "tenant-b"} {
		require.NoError(t, control.CreateTenant(ctx, &capability.Tenant{Slug: slug}))
	}
	var aPrefixes []string
	for range 3 {
		_, k, err := control.CreateKey(ctx, "tenant-a", readOnly, time.Time{})
		require.NoError(t, err)
		aPrefixes = append(aPrefixes, k.Prefix)
	}
	bToken, bKey, err := control.CreateKey(ctx, "tenant-b", readWrite, time.Time{})
	require.NoError(t, err)

	t.Run("OKOldestFirstOwnTenantOnly", func(t *testing.T) {
		keys, err := control.ListKeys(ctx, "tenant-a")
		require.NoError(t, err)
		var got []string
		for _, k := range keys {
			got = append(got, k.Prefix)
			require.Equal(t, "tenant-a", k.Tenant)
		}
		require.Equal(t, aPrefixes, got)
	})

	t.Run("OKTenantIsolation", func(t *testing.T) {
		keys, err := control.ListKeys(ctx, "tenant-b")
		require.NoError(t, err)
		require.Len(t, keys, 1)
		require.Equal(t, bKey.Prefix, keys[0].Prefix)
		p, err := control.Authenticate(ctx, bToken)
		require.NoError(t, err)
		require.Equal(t, "tenant-b", p.Tenant)
	})

	t.Run("OKEmpty", func(t *testing.T) {
		require.NoError(t, control.CreateTenant(ctx, &capability.Tenant{Slug: "keyless"}))
		keys, err := control.ListKeys(ctx, "keyless")
		require.NoError(t, err)
		require.Empty(t, keys)
	})

	t.Run("ErrUnknownTenant", func(t *testing.T) {
		_, err := control.ListKeys(ctx, "ghost")
		require.Equal(t, capability.CodeNotFound, capability.ErrorCode(err))
	})
}
