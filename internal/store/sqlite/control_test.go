package sqlite

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/capd-dev/capd/internal/capability"
)

func TestCreateTenant(t *testing.T) {
	ctx := context.Background()
	db, clock := openTestDB(t, Options{})
	control := db.Control()

	t.Run("OK", func(t *testing.T) {
		want := clock.Peek().UTC()
		tenant := &capability.Tenant{Slug: "switchback-engineering", Name: "Switchback Engineering"}
		require.NoError(t, control.CreateTenant(ctx, tenant))
		require.Equal(t, want, tenant.CreatedAt)
		got, err := control.FindTenant(ctx, "switchback-engineering")
		require.NoError(t, err)
		require.Equal(t, tenant, got)
	})

	t.Run("OKNameDefaultsToSlug", func(t *testing.T) {
		require.NoError(t, control.CreateTenant(ctx, &capability.Tenant{Slug: "driftline-design"}))
		got, err := control.FindTenant(ctx, "driftline-design")
		require.NoError(t, err)
		require.Equal(t, "driftline-design", got.Name)
	})

	t.Run("ErrAlreadyExists", func(t *testing.T) {
		err := control.CreateTenant(ctx, &capability.Tenant{Slug: "switchback-engineering"})
		require.Equal(t, capability.CodeAlreadyExists, capability.ErrorCode(err))
	})

	t.Run("ErrInvalidSlug", func(t *testing.T) {
		for _, slug := range []string{"", "x", "Upper", "under_score", "dot.ted", "-lead", "a/b", string(make([]byte, 64))} {
			err := control.CreateTenant(ctx, &capability.Tenant{Slug: slug})
			require.Equal(t, capability.CodeInvalidInput, capability.ErrorCode(err), "slug %q", slug)
			require.NotEmpty(t, capability.AsError(err).Issues)
		}
	})

	t.Run("OKSlugBounds", func(t *testing.T) {
		long := "a123456789012345678901234567890123456789012345678901234567890-z" // 63
		require.Len(t, long, 63)
		for _, slug := range []string{"a1", "0-", long} {
			require.NoError(t, control.CreateTenant(ctx, &capability.Tenant{Slug: slug}))
		}
		require.Equal(t, capability.CodeInvalidInput, capability.ErrorCode(control.CreateTenant(ctx, &capability.Tenant{Slug: long + "x"})))
	})
}

func TestFindTenant(t *testing.T) {
	ctx := context.Background()
	db, _ := openTestDB(t, Options{})

	t.Run("ErrNotFound", func(t *testing.T) {
		_, err := db.Control().FindTenant(ctx, "nobody")
		require.ErrorIs(t, err, capability.ErrNotFound)
	})
}

func TestListTenants(t *testing.T) {
	ctx := context.Background()
	db, _ := openTestDB(t, Options{})

	t.Run("OKEmpty", func(t *testing.T) {
		got, err := db.Control().ListTenants(ctx)
		require.NoError(t, err)
		require.Empty(t, got)
	})

	t.Run("OKOrderedBySlug", func(t *testing.T) {
		for _, slug := range []string{"switchback-engineering", "atelier-meridian", "driftline-design"} {
			require.NoError(t, db.Control().CreateTenant(ctx, &capability.Tenant{Slug: slug}))
		}
		got, err := db.Control().ListTenants(ctx)
		require.NoError(t, err)
		slugs := make([]string, len(got))
		for i, tn := range got {
			slugs[i] = tn.Slug
		}
		require.Equal(t, []string{"atelier-meridian", "driftline-design", "switchback-engineering"}, slugs)
	})
}
