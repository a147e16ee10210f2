package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/capd-dev/capd/internal/capability"
	"github.com/capd-dev/capd/internal/store/storecore"
)

// testProjects covers creating, finding and listing projects.
func testProjects(t *testing.T, e *env) {
	ctx := context.Background()
	s := e.tenant(t, "projects")
	findByID := func(t *testing.T, id string) *capability.Project {
		t.Helper()
		return read(t, s, func(ctx context.Context, tx capability.Tx) (*capability.Project, error) {
			return tx.FindProjectByID(ctx, id)
		})
	}

	var website *capability.Project
	t.Run("OKCreate", func(t *testing.T) {
		want := e.clock.Peek()
		website = mustCreateProject(t, s, "Website")
		e.ids.requireIssued(t, "prj", website.ID)
		requireInstant(t, want, website.CreatedAt)
		require.Equal(t, website.CreatedAt, website.UpdatedAt)
		require.Equal(t, website, findByID(t, website.ID), "what the caller holds is what a read returns")
	})

	t.Run("OKFindByNameIgnoringCase", func(t *testing.T) {
		for _, name := range []string{"Website", "WEBSITE", "wEbSiTe"} {
			got := read(t, s, func(ctx context.Context, tx capability.Tx) (*capability.Project, error) {
				return tx.FindProjectByName(ctx, name)
			})
			require.Equal(t, website, got, name)
		}
	})

	t.Run("OKGivenIDAndTimes", func(t *testing.T) {
		created := time.Date(2020, 1, 2, 3, 4, 5, 6789, cet)
		p := &capability.Project{ID: "prj_given", Name: "Given", CreatedAt: created, UpdatedAt: created.Add(time.Hour)}
		update(t, s, func(tx capability.Tx) error { return tx.CreateProject(ctx, p) })
		require.Equal(t, "prj_given", p.ID)
		requireInstant(t, created, p.CreatedAt)
		requireInstant(t, created.Add(time.Hour), p.UpdatedAt)
		require.Equal(t, p, findByID(t, "prj_given"))
	})

	t.Run("ErrAlreadyExistsIgnoringCase", func(t *testing.T) {
		update(t, s, func(tx capability.Tx) error {
			err := tx.CreateProject(ctx, &capability.Project{Name: "wEbSiTe"})
			requireCode(t, capability.CodeAlreadyExists, err)
			require.Equal(t, website.ID, capability.AsError(err).Details["existing_id"], "names the project to use instead")
			// The transaction is still usable after the rejection.
			return tx.CreateProject(ctx, &capability.Project{Name: "After a duplicate"})
		})
		got := read(t, s, func(ctx context.Context, tx capability.Tx) (*capability.Project, error) {
			return tx.FindProjectByName(ctx, "After a duplicate")
		})
		require.NotEmpty(t, got.ID)
	})

	t.Run("ErrAlreadyExistsSameID", func(t *testing.T) {
		update(t, s, func(tx capability.Tx) error {
			err := tx.CreateProject(ctx, &capability.Project{ID: website.ID, Name: "Fresh name"})
			requireCode(t, capability.CodeAlreadyExists, err)
			got, err := tx.FindProjectByID(ctx, website.ID)
			require.NoError(t, err, "the transaction is still usable after the rejection")
			require.Equal(t, website, got, "the duplicate changed nothing")
			_, err = tx.FindProjectByName(ctx, "Fresh name")
			require.ErrorIs(t, err, capability.ErrNotFound)
			return nil
		})
	})

	t.Run("ErrInvalid", func(t *testing.T) {
		err := s.Update(ctx, func(tx capability.Tx) error { return tx.CreateProject(ctx, &capability.Project{}) })
		require.Error(t, err, "a project needs a name")
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		view(t, s, func(tx capability.Tx) error {
			_, err := tx.FindProjectByID(ctx, "prj_missing")
			require.ErrorIs(t, err, capability.ErrNotFound)
			_, err = tx.FindProjectByID(ctx, "")
			require.ErrorIs(t, err, capability.ErrNotFound)
			_, err = tx.FindProjectByName(ctx, "Website 2")
			require.ErrorIs(t, err, capability.ErrNotFound)
			_, err = tx.FindProjectByName(ctx, "Websit")
			require.ErrorIs(t, err, capability.ErrNotFound, "names match whole")
			// The transaction is still usable after a miss.
			_, err = tx.FindProjectByID(ctx, website.ID)
			return err
		})
	})

	t.Run("Find", func(t *testing.T) { testFindProjects(t, e) })
}

// testFindProjects covers FindProjects: paging in creation order and the
// case-insensitive, literal query.
func testFindProjects(t *testing.T, e *env) {
	s := e.tenant(t, "find-projects")
	var all []string
	for i := range 23 {
		all = append(all, mustCreateProject(t, s, fmt.Sprintf("Project %02d", i)).ID)
	}
	special := []*capability.Project{
		{Name: "Growth 100%", Description: "literal percent"},
		{Name: "Growth 1000", Description: "no percent"},
		{Name: "snake_case", Description: "literal underscore"},
		{Name: "snakeXcase", Description: "no underscore"},
		{Name: `back\slash`, Description: "literal backslash"},
	}
	for _, p := range special {
		update(t, s, func(tx capability.Tx) error { return tx.CreateProject(context.Background(), p) })
		all = append(all, p.ID)
	}
	find := func(f capability.ProjectFilter) []string {
		return ids(read(t, s, func(ctx context.Context, tx capability.Tx) ([]*capability.Project, error) {
			return tx.FindProjects(ctx, f)
		}), projectID)
	}

	t.Run("OKPagesWithoutGapsOrDuplicates", func(t *testing.T) {
		for _, limit := range []int{1, 5, 28, 29} {
			got, _ := allPages(t, limit, func(p capability.Page) []string { return find(capability.ProjectFilter{Page: p}) })
			require.Equal(t, all, got, "limit %d", limit)
		}
		_, pages := allPages(t, 5, func(p capability.Page) []string { return find(capability.ProjectFilter{Page: p}) })
		require.Equal(t, 6, pages)
	})

	t.Run("OKDefaultLimit", func(t *testing.T) {
		require.Equal(t, all[:storecore.DefaultPageLimit+1], find(capability.ProjectFilter{}))
		require.Equal(t, all[:storecore.DefaultPageLimit+1], find(capability.ProjectFilter{Page: capability.Page{Limit: -1}}))
	})

	t.Run("OKAfterLastIsEmpty", func(t *testing.T) {
		require.Empty(t, find(capability.ProjectFilter{Page: capability.Page{AfterID: all[len(all)-1]}}))
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
		require.Empty(t, find(capability.ProjectFilter{Query: "'; DROP TABLE projects; --"}))
	})

	t.Run("OKQueryPaged", func(t *testing.T) {
		got, pages := allPages(t, 1, func(p capability.Page) []string {
			return find(capability.ProjectFilter{Query: "growth", Page: p})
		})
		require.Equal(t, []string{special[0].ID, special[1].ID}, got)
		require.Equal(t, 2, pages)
	})
}
