package sqlite

import (
	"context"
	"fmt"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/capd-dev/capd/internal/capability"
)

func TestCreateProject(t *testing.T) {
	ctx := context.Background()
	db, clock := openTestDB(t, Options{})
	store := createTenant(t, db, "acme")

	t.Run("OK", func(t *testing.T) {
		want := clock.Peek().UTC()
		p := mustCreateProject(t, store, "Website")
		require.Regexp(t, regexp.MustCompile(`^prj_[0-9a-f]{32}$`), p.ID)
		require.Equal(t, want, p.CreatedAt)
		require.Equal(t, p.CreatedAt, p.UpdatedAt)

		view(t, store, func(tx capability.Tx) error {
			got, err := tx.FindProjectByID(ctx, p.ID)
			require.NoError(t, err)
			require.Equal(t, p, got)
			require.Equal(t, time.UTC, got.CreatedAt.Location())
			return nil
		})
	})

	t.Run("OKGivenIDAndTimes", func(t *testing.T) {
		created := time.Date(2020, 1, 2, 3, 4, 5, 6, time.UTC)
		p := &capability.Project{ID: "prj_given", Name: "Given", CreatedAt: created, UpdatedAt: created.Add(time.Hour)}
		update(t, store, func(tx capability.Tx) error { return tx.CreateProject(ctx, p) })
		view(t, store, func(tx capability.Tx) error {
			got, err := tx.FindProjectByID(ctx, "prj_given")
			require.NoError(t, err)
			require.Equal(t, p, got)
			return nil
		})
	})

	t.Run("ErrAlreadyExistsIgnoringCase", func(t *testing.T) {
		existing := mustCreateProject(t, store, "Mobile App")
		err := store.Update(ctx, func(tx capability.Tx) error {
			return tx.CreateProject(ctx, &capability.Project{Name: "mOBILE aPP"})
		})
		require.Equal(t, capability.CodeAlreadyExists, capability.ErrorCode(err))
		require.Equal(t, existing.ID, capability.AsError(err).Details["existing_id"])
		require.Contains(t, err.Error(), existing.ID, "the message names the existing project")
	})

	t.Run("ErrAlreadyExistsSameID", func(t *testing.T) {
		p := mustCreateProject(t, store, "First")
		err := store.Update(ctx, func(tx capability.Tx) error {
			return tx.CreateProject(ctx, &capability.Project{ID: p.ID, Name: "Second"})
		})
		require.Equal(t, capability.CodeAlreadyExists, capability.ErrorCode(err))
	})
}

func TestFindProject(t *testing.T) {
	ctx := context.Background()
	db, _ := openTestDB(t, Options{})
	store := createTenant(t, db, "acme")
	p := mustCreateProject(t, store, "Data Platform")

	t.Run("OKByNameIgnoringCase", func(t *testing.T) {
		view(t, store, func(tx capability.Tx) error {
			got, err := tx.FindProjectByName(ctx, "data PLATFORM")
			require.NoError(t, err)
			require.Equal(t, p, got)
			return nil
		})
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		view(t, store, func(tx capability.Tx) error {
			_, err := tx.FindProjectByID(ctx, "prj_missing")
			require.ErrorIs(t, err, capability.ErrNotFound)
			_, err = tx.FindProjectByName(ctx, "Data Platform 2")
			require.ErrorIs(t, err, capability.ErrNotFound)
			return nil
		})
	})
}

func TestFindProjects(t *testing.T) {
	ctx := context.Background()
	db, _ := openTestDB(t, Options{})
	store := createTenant(t, db, "acme")
	var all []string
	for i := range 23 {
		all = append(all, mustCreateProject(t, store, fmt.Sprintf("Project %02d", i)).ID)
	}
	special := []*capability.Project{
		{Name: "Growth 100%", Description: "literal percent"},
		{Name: "Growth 1000", Description: "no percent"},
		{Name: "snake_case", Description: "literal underscore"},
		{Name: "snakeXcase", Description: "no underscore"},
		{Name: `back\slash`, Description: "literal backslash"},
	}
	for _, p := range special {
		update(t, store, func(tx capability.Tx) error { return tx.CreateProject(ctx, p) })
		all = append(all, p.ID)
	}
	find := func(f capability.ProjectFilter) []string {
		var out []*capability.Project
		view(t, store, func(tx capability.Tx) error {
			var err error
			out, err = tx.FindProjects(ctx, f)
			return err
		})
		return ids(out, projectID)
	}

	t.Run("OKPagesWithoutGapsOrDuplicates", func(t *testing.T) {
		got, pages := allPages(t, 5, func(p capability.Page) []string {
			return find(capability.ProjectFilter{Page: p})
		})
		require.Equal(t, all, got)
		require.Equal(t, 6, pages)
	})

	t.Run("OKDefaultLimit", func(t *testing.T) {
		require.Len(t, find(capability.ProjectFilter{}), DefaultPageLimit+1)
	})

	t.Run("OKQueryNameOrDescriptionIgnoringCase", func(t *testing.T) {
		require.Equal(t, []string{all[7]}, find(capability.ProjectFilter{Query: "project 07"}))
		require.Equal(t, []string{special[1].ID}, find(capability.ProjectFilter{Query: "NO PERCENT"}))
	})

	t.Run("OKQueryWildcardsMatchLiterally", func(t *testing.T) {
		require.Equal(t, []string{special[0].ID}, find(capability.ProjectFilter{Query: "0%"}))
		require.Equal(t, []string{special[2].ID}, find(capability.ProjectFilter{Query: "e_c"}))
		require.Equal(t, []string{special[4].ID}, find(capability.ProjectFilter{Query: `k\s`}))
		require.Empty(t, find(capability.ProjectFilter{Query: "%%"}))
	})

	t.Run("OKQueryPaged", func(t *testing.T) {
		got, _ := allPages(t, 2, func(p capability.Page) []string {
			return find(capability.ProjectFilter{Query: "growth", Page: p})
		})
		require.Equal(t, []string{special[0].ID, special[1].ID}, got)
	})
}
