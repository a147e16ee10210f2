package sqlite

import (
	"context"
	"fmt"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/capd-dev/capd/internal/capability"
)

func TestStaff(t *testing.T) {
	ctx := context.Background()
	db, clock := openTestDB(t, Options{})
	store := createTenant(t, db, "acme")

	t.Run("OK", func(t *testing.T) {
		want := clock.Peek().UTC()
		s := mustCreateStaff(t, store, "ada")
		require.Regexp(t, regexp.MustCompile(`^stf_[0-9a-f]{32}$`), s.ID)
		require.Equal(t, want, s.CreatedAt)
		view(t, store, func(tx capability.Tx) error {
			got, err := tx.FindStaffByID(ctx, s.ID)
			require.NoError(t, err)
			require.Equal(t, s, got)
			return nil
		})
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		view(t, store, func(tx capability.Tx) error {
			_, err := tx.FindStaffByID(ctx, "stf_missing")
			require.ErrorIs(t, err, capability.ErrNotFound)
			return nil
		})
	})
}

func TestFindStaff(t *testing.T) {
	ctx := context.Background()
	db, _ := openTestDB(t, Options{})
	store := createTenant(t, db, "acme")
	var all []string
	for i := range 11 {
		all = append(all, mustCreateStaff(t, store, fmt.Sprintf("person%02d", i)).ID)
	}
	designer := &capability.Staff{Name: "Grace", Email: "grace_h@example.org", Role: "Designer"}
	update(t, store, func(tx capability.Tx) error { return tx.CreateStaff(ctx, designer) })
	all = append(all, designer.ID)

	find := func(f capability.StaffFilter) []string {
		var out []*capability.Staff
		view(t, store, func(tx capability.Tx) error {
			var err error
			out, err = tx.FindStaff(ctx, f)
			return err
		})
		return ids(out, staffID)
	}

	t.Run("OKPagesWithoutGapsOrDuplicates", func(t *testing.T) {
		got, pages := allPages(t, 4, func(p capability.Page) []string {
			return find(capability.StaffFilter{Page: p})
		})
		require.Equal(t, all, got)
		require.Equal(t, 3, pages)
	})

	t.Run("OKQueryNameEmailOrRole", func(t *testing.T) {
		require.Equal(t, []string{designer.ID}, find(capability.StaffFilter{Query: "GRACE"}))
		require.Equal(t, []string{designer.ID}, find(capability.StaffFilter{Query: "example.org"}))
		require.Equal(t, []string{designer.ID}, find(capability.StaffFilter{Query: "design"}))
		require.Len(t, find(capability.StaffFilter{Query: "engineer", Page: capability.Page{Limit: 100}}), 11)
	})

	t.Run("OKQueryUnderscoreMatchesLiterally", func(t *testing.T) {
		require.Equal(t, []string{designer.ID}, find(capability.StaffFilter{Query: "e_h"}))
		require.Empty(t, find(capability.StaffFilter{Query: "n_0"}))
	})
}
