package postgres

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/capd-dev/capd/internal/capability"
	"github.com/capd-dev/capd/internal/store/pgtest"
)

// scratchDB opens a fresh database with tenants acme and globex, each with
// one live project.
func scratchDB(t *testing.T) *DB {
	t.Helper()
	ctx := context.Background()
	db, err := Open(ctx, pgtest.DSN(t), Options{})
	require.NoError(t, err)
	t.Cleanup(db.Close)
	for _, slug := range []string{"acme", "globex"} {
		require.NoError(t, db.Control().CreateTenant(ctx, &capability.Tenant{Slug: slug}))
		live, err := db.Tenants().Tenant(ctx, slug)
		require.NoError(t, err)
		require.NoError(t, live.Update(ctx, func(tx capability.Tx) error {
			return tx.CreateProject(ctx, &capability.Project{Name: "Live " + slug})
		}))
	}
	return db
}

// projectNames lists a tenant store's project names.
func projectNames(t *testing.T, s capability.TenantStore) []string {
	t.Helper()
	var names []string
	require.NoError(t, s.View(context.Background(), func(tx capability.Tx) error {
		ps, err := tx.FindProjects(context.Background(), capability.ProjectFilter{})
		for _, p := range ps {
			names = append(names, p.Name)
		}
		return err
	}))
	return names
}

func TestScratch(t *testing.T) {
	ctx := context.Background()

	t.Run("OKSeesLiveDataKeepsWritesToItself", func(t *testing.T) {
		db := scratchDB(t)
		live, err := db.Tenants().Tenant(ctx, "acme")
		require.NoError(t, err)
		scratch, discard, err := db.Tenants().Scratch(ctx, "acme")
		require.NoError(t, err)
		require.Equal(t, []string{"Live acme"}, projectNames(t, scratch))

		require.NoError(t, scratch.Update(ctx, func(tx capability.Tx) error {
			return tx.CreateProject(ctx, &capability.Project{Name: "Scratch only"})
		}))
		require.ElementsMatch(t, []string{"Live acme", "Scratch only"}, projectNames(t, scratch))
		require.Equal(t, []string{"Live acme"}, projectNames(t, live), "a scratch write leaked into the live tenant")

		// The scratch transaction holds no tenant lock: a live write
		// goes through while it is open.
		done := make(chan error, 1)
		go func() {
			done <- live.Update(ctx, func(tx capability.Tx) error {
				return tx.CreateProject(ctx, &capability.Project{Name: "Live second"})
			})
		}()
		select {
		case err := <-done:
			require.NoError(t, err)
		case <-time.After(10 * time.Second):
			t.Fatal("a live write waited on an open scratch store")
		}

		require.NoError(t, discard())
		require.NoError(t, discard(), "discard twice")
		require.ElementsMatch(t, []string{"Live acme", "Live second"}, projectNames(t, live))
		err = scratch.View(ctx, func(capability.Tx) error { return nil })
		require.ErrorIs(t, err, errScratchClosed)
	})

	t.Run("OKFailedUpdateRollsBackOnlyItself", func(t *testing.T) {
		db := scratchDB(t)
		scratch, discard, err := db.Tenants().Scratch(ctx, "acme")
		require.NoError(t, err)
		defer discard()
		require.NoError(t, scratch.Update(ctx, func(tx capability.Tx) error {
			return tx.CreateProject(ctx, &capability.Project{Name: "Kept"})
		}))
		boom := errors.New("rejected")
		err = scratch.Update(ctx, func(tx capability.Tx) error {
			if err := tx.CreateProject(ctx, &capability.Project{Name: "Dropped"}); err != nil {
				return err
			}
			return boom
		})
		require.ErrorIs(t, err, boom)
		// A statement error aborts a PostgreSQL transaction; the
		// savepoint keeps the scratch transaction usable after one.
		err = scratch.Update(ctx, func(c capability.Tx) error {
			_, err := c.(*tx).tx.Exec(ctx, "SELECT no_such_column FROM projects")
			return err
		})
		require.Error(t, err)
		require.ElementsMatch(t, []string{"Live acme", "Kept"}, projectNames(t, scratch))
	})

	t.Run("OKOtherTenantUntouched", func(t *testing.T) {
		db := scratchDB(t)
		scratch, discard, err := db.Tenants().Scratch(ctx, "acme")
		require.NoError(t, err)
		defer discard()
		require.NotContains(t, projectNames(t, scratch), "Live globex")
		require.NoError(t, scratch.Update(ctx, func(tx capability.Tx) error {
			return tx.CreateProject(ctx, &capability.Project{Name: "Scratch acme"})
		}))
		other, err := db.Tenants().Tenant(ctx, "globex")
		require.NoError(t, err)
		require.Equal(t, []string{"Live globex"}, projectNames(t, other))
	})

	t.Run("ErrUnknownTenant", func(t *testing.T) {
		db := scratchDB(t)
		_, _, err := db.Tenants().Scratch(ctx, "nobody")
		require.ErrorIs(t, err, capability.ErrNotFound)
	})
}
