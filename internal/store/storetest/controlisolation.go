package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/capd-dev/capd/internal/capability"
)

// testControlIsolation: what the control store holds for one tenant (keys,
// calls, conformance results, private sets) never shows up as another's,
// whatever is asked.
func testControlIsolation(t *testing.T, e *env) {
	ctx := context.Background()
	c := e.Control
	for _, slug := range []string{"tenant-a", "tenant-b"} {
		require.NoError(t, c.CreateTenant(ctx, &capability.Tenant{Slug: slug}))
	}
	aToken, aKey, err := c.CreateKey(ctx, "tenant-a", capability.AllScopes, time.Time{})
	require.NoError(t, err)
	bToken, bKey, err := c.CreateKey(ctx, "tenant-b", readOnly, time.Time{})
	require.NoError(t, err)
	require.NoError(t, c.PinKey(ctx, aKey.Prefix, map[string]string{"projects.create_task": "0.1.0"}))
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	require.NoError(t, c.RecordCalls(ctx, []capability.CallRecord{
		{At: at, Tenant: "tenant-a", KeyPrefix: aKey.Prefix, Capability: "projects.create_task@0.1.0", Outcome: "ok"},
	}))
	require.NoError(t, c.RecordConformance(ctx, []capability.ConformanceResult{
		{RunID: "ra", Provider: "projectkit:tenant-a", Capability: "projects.create_task", Version: "0.1.0", CaseID: "happy_path", Kind: "happy", Outcome: "pass", StartedAt: at},
	}))
	mustCreateSet(t, c, &capability.CapabilitySet{Owner: "tenant-a", Name: "private"})

	t.Run("OKKeysAuthenticateAsTheirOwnTenant", func(t *testing.T) {
		p, err := c.Authenticate(ctx, aToken)
		require.NoError(t, err)
		require.Equal(t, "tenant-a", p.Tenant)
		p, err = c.Authenticate(ctx, bToken)
		require.NoError(t, err)
		require.Equal(t, "tenant-b", p.Tenant)
		require.False(t, p.Allows(capability.ScopeProjectsWrite), "B's key does not gain A's scopes")
		require.Nil(t, p.Pins, "nor A's pins")
	})

	t.Run("ErrMixedTokenParts", func(t *testing.T) {
		// B's prefix with A's secret, and A's prefix with B's secret.
		for _, tok := range []string{
			"capd_" + bKey.Prefix + aToken[13:],
			"capd_" + aKey.Prefix + bToken[13:],
		} {
			_, err := c.Authenticate(ctx, tok)
			requireCode(t, capability.CodeUnauthenticated, err)
		}
	})

	t.Run("OKKeysListedForTheirTenantOnly", func(t *testing.T) {
		keys, err := c.ListKeys(ctx, "tenant-b")
		require.NoError(t, err)
		require.Equal(t, []string{bKey.Prefix}, ids(keys, func(k *capability.APIKey) string { return k.Prefix }))
		require.True(t, keys[0].LastUsed.IsZero(), "A's calls do not touch B's key")
	})

	t.Run("OKCallsNotListedForOtherTenant", func(t *testing.T) {
		got, err := c.ListCalls(ctx, "tenant-b", time.Time{}, 0)
		require.NoError(t, err)
		require.Empty(t, got)
		got, err = c.ListCalls(ctx, "tenant-a", time.Time{}, 0)
		require.NoError(t, err)
		require.Len(t, got, 1)
	})

	t.Run("OKConformanceNotListedForOtherTenant", func(t *testing.T) {
		got, err := c.ListConformance(ctx, capability.ConformanceFilter{Provider: "projectkit:tenant-b"})
		require.NoError(t, err)
		require.Empty(t, got)
		got, err = c.LatestConformance(ctx, capability.ConformanceFilter{Provider: "projectkit:tenant-b"})
		require.NoError(t, err)
		require.Empty(t, got)
	})

	t.Run("OKPrivateSetsHidden", func(t *testing.T) {
		_, err := c.FindSet(ctx, "tenant-b", "private")
		require.ErrorIs(t, err, capability.ErrNotFound)
		got, err := c.ListSets(ctx, capability.SetFilter{Owner: "tenant-b", WithPublic: true})
		require.NoError(t, err)
		require.Empty(t, got)
		public, err := c.FindPublicSets(ctx, "private")
		require.NoError(t, err)
		require.Empty(t, public)
		require.ErrorIs(t, c.UpdateSet(ctx, &capability.CapabilitySet{Owner: "tenant-b", Name: "private", IsPublic: true}), capability.ErrNotFound)
		require.ErrorIs(t, c.DeleteSet(ctx, "tenant-b", "private"), capability.ErrNotFound)
		s, err := c.FindSet(ctx, "tenant-a", "private")
		require.NoError(t, err, "B's attempts changed nothing")
		require.False(t, s.IsPublic)
	})

	t.Run("OKSameSetNameInBothTenants", func(t *testing.T) {
		mustCreateSet(t, c, &capability.CapabilitySet{Owner: "tenant-b", Name: "private"})
	})

	t.Run("OKRevokingOneTenantsKeyLeavesTheOther", func(t *testing.T) {
		require.NoError(t, c.RevokeKey(ctx, bKey.Prefix))
		_, err := c.Authenticate(ctx, aToken)
		require.NoError(t, err, "revoking B's key leaves A's alone")
	})
}
