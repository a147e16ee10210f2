package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/capd-dev/capd/internal/capability"
)

// testTenants covers the tenant list of the control store and opening a
// tenant's store.
func testTenants(t *testing.T, e *env) {
	ctx := context.Background()
	c := e.Control
	long := "a123456789012345678901234567890123456789012345678901234567890-z" // 63 characters
	require.Len(t, long, 63)

	t.Run("OKListEmpty", func(t *testing.T) {
		got, err := c.ListTenants(ctx)
		require.NoError(t, err)
		require.Empty(t, got)
	})

	t.Run("OK", func(t *testing.T) {
		want := e.clock.Peek()
		tenant := &capability.Tenant{Slug: "switchback-engineering", Name: "Switchback Engineering"}
		require.NoError(t, c.CreateTenant(ctx, tenant))
		requireInstant(t, want, tenant.CreatedAt)
		got, err := c.FindTenant(ctx, "switchback-engineering")
		require.NoError(t, err)
		require.Equal(t, tenant, got, "what the caller holds is what a read returns")
	})

	t.Run("OKNameDefaultsToSlug", func(t *testing.T) {
		require.NoError(t, c.CreateTenant(ctx, &capability.Tenant{Slug: "driftline-design"}))
		got, err := c.FindTenant(ctx, "driftline-design")
		require.NoError(t, err)
		require.Equal(t, "driftline-design", got.Name)
	})

	t.Run("OKGivenCreationTime", func(t *testing.T) {
		created := time.Date(2020, 1, 2, 3, 4, 5, 678901234, cet)
		tenant := &capability.Tenant{Slug: "atelier-meridian", CreatedAt: created}
		require.NoError(t, c.CreateTenant(ctx, tenant))
		requireInstant(t, created, tenant.CreatedAt)
		got, err := c.FindTenant(ctx, "atelier-meridian")
		require.NoError(t, err)
		require.Equal(t, tenant, got)
	})

	t.Run("ErrAlreadyExists", func(t *testing.T) {
		err := c.CreateTenant(ctx, &capability.Tenant{Slug: "switchback-engineering", Name: "Other"})
		requireCode(t, capability.CodeAlreadyExists, err)
		got, err := c.FindTenant(ctx, "switchback-engineering")
		require.NoError(t, err)
		require.Equal(t, "Switchback Engineering", got.Name, "the duplicate changed nothing")
	})

	t.Run("ErrInvalidSlug", func(t *testing.T) {
		for _, slug := range []string{"", "x", "Upper", "under_score", "dot.ted", "-lead", "a/b", "../acme",
			"ac me", "acme\x00", `a"; DROP SCHEMA capd_control; --`, string(make([]byte, 64)), long + "x"} {
			err := c.CreateTenant(ctx, &capability.Tenant{Slug: slug})
			requireCode(t, capability.CodeInvalidInput, err, "slug %q", slug)
			require.NotEmpty(t, capability.AsError(err).Issues, "slug %q", slug)
		}
	})

	t.Run("OKSlugBounds", func(t *testing.T) {
		for _, slug := range []string{"a1", "0-", long} {
			require.NoError(t, c.CreateTenant(ctx, &capability.Tenant{Slug: slug}))
		}
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		_, err := c.FindTenant(ctx, "nobody")
		require.ErrorIs(t, err, capability.ErrNotFound)
	})

	t.Run("OKListOrderedBySlug", func(t *testing.T) {
		got, err := c.ListTenants(ctx)
		require.NoError(t, err)
		var slugs []string
		for _, tn := range got {
			slugs = append(slugs, tn.Slug)
			require.Equal(t, time.UTC, tn.CreatedAt.Location())
		}
		require.Equal(t, []string{"0-", "a1", long, "atelier-meridian", "driftline-design", "switchback-engineering"}, slugs,
			"rejected slugs created nothing")
	})

	t.Run("OKTenantStore", func(t *testing.T) {
		for _, slug := range []string{"switchback-engineering", "a1", long} {
			s, err := e.Tenants.Tenant(ctx, slug)
			require.NoError(t, err, slug)
			p := mustCreateProject(t, s, "Hyphens and bounds")
			got := read(t, s, func(ctx context.Context, tx capability.Tx) (*capability.Project, error) {
				return tx.FindProjectByID(ctx, p.ID)
			})
			require.Equal(t, p, got)
		}
	})

	t.Run("OKTenantStoreAgain", func(t *testing.T) {
		// A second handle on an open tenant reaches the same data.
		s, err := e.Tenants.Tenant(ctx, "switchback-engineering")
		require.NoError(t, err)
		got := read(t, s, func(ctx context.Context, tx capability.Tx) ([]*capability.Project, error) {
			return tx.FindProjects(ctx, capability.ProjectFilter{})
		})
		require.Len(t, got, 1)
	})

	t.Run("ErrTenantStoreNotFound", func(t *testing.T) {
		_, err := e.Tenants.Tenant(ctx, "nobody")
		require.ErrorIs(t, err, capability.ErrNotFound)
		_, err = e.Tenants.Tenant(ctx, "nobody")
		require.ErrorIs(t, err, capability.ErrNotFound, "a failed open is not remembered as a tenant")
	})

	t.Run("ErrTenantStoreInvalidSlug", func(t *testing.T) {
		for _, slug := range []string{"", "a", "../acme", "Acme", "acme.db", "-acme", "ac/me", "ac me", "acme\x00",
			`x"; DROP SCHEMA capd_control CASCADE; --`} {
			_, err := e.Tenants.Tenant(ctx, slug)
			requireCode(t, capability.CodeInvalidInput, err, "slug %q", slug)
		}
	})
}
