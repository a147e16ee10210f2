package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/capd-dev/capd/internal/capability"
)

// testStaff covers creating, finding and listing staff.
func testStaff(t *testing.T, e *env) {
	ctx := context.Background()
	s := e.tenant(t, "staff")
	findByID := func(t *testing.T, id string) *capability.Staff {
		t.Helper()
		return read(t, s, func(ctx context.Context, tx capability.Tx) (*capability.Staff, error) {
			return tx.FindStaffByID(ctx, id)
		})
	}

	var ada *capability.Staff
	t.Run("OKCreate", func(t *testing.T) {
		want := e.clock.Peek()
		ada = mustCreateStaff(t, s, "ada")
		e.ids.requireIssued(t, "stf", ada.ID)
		requireInstant(t, want, ada.CreatedAt)
		require.Equal(t, ada, findByID(t, ada.ID))
	})

	t.Run("OKGivenIDAndTime", func(t *testing.T) {
		created := time.Date(2021, 5, 6, 7, 8, 9, 123456789, cet)
		st := &capability.Staff{ID: "stf_given", Name: "Given", Email: "", Role: "", CreatedAt: created}
		update(t, s, func(tx capability.Tx) error { return tx.CreateStaff(ctx, st) })
		requireInstant(t, created, st.CreatedAt)
		require.Equal(t, st, findByID(t, "stf_given"))
	})

	t.Run("ErrAlreadyExistsSameID", func(t *testing.T) {
		update(t, s, func(tx capability.Tx) error {
			err := tx.CreateStaff(ctx, &capability.Staff{ID: ada.ID, Name: "impostor"})
			requireCode(t, capability.CodeAlreadyExists, err)
			got, err := tx.FindStaffByID(ctx, ada.ID)
			require.NoError(t, err, "the transaction is still usable after the rejection")
			require.Equal(t, ada, got, "the duplicate changed nothing")
			return nil
		})
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		view(t, s, func(tx capability.Tx) error {
			_, err := tx.FindStaffByID(ctx, "stf_missing")
			require.ErrorIs(t, err, capability.ErrNotFound)
			return nil
		})
	})

	t.Run("Find", func(t *testing.T) { testFindStaff(t, e) })
}

// testFindStaff covers FindStaff: paging in creation order and the query
// over name, email and role.
func testFindStaff(t *testing.T, e *env) {
	s := e.tenant(t, "find-staff")
	var all []string
	for i := range 11 {
		all = append(all, mustCreateStaff(t, s, fmt.Sprintf("person%02d", i)).ID)
	}
	grace := &capability.Staff{Name: "Grace", Email: "grace_h@example.org", Role: "Designer"}
	update(t, s, func(tx capability.Tx) error { return tx.CreateStaff(context.Background(), grace) })
	all = append(all, grace.ID)
	find := func(f capability.StaffFilter) []string {
		return ids(read(t, s, func(ctx context.Context, tx capability.Tx) ([]*capability.Staff, error) {
			return tx.FindStaff(ctx, f)
		}), staffID)
	}

	t.Run("OKPagesWithoutGapsOrDuplicates", func(t *testing.T) {
		got, pages := allPages(t, 4, func(p capability.Page) []string { return find(capability.StaffFilter{Page: p}) })
		require.Equal(t, all, got)
		require.Equal(t, 3, pages)
		require.Equal(t, all[:2], find(capability.StaffFilter{Page: capability.Page{Limit: 1}}), "Limit+1 rows")
	})

	t.Run("OKDefaultLimit", func(t *testing.T) {
		require.Equal(t, all, find(capability.StaffFilter{}), "a default page of 25 holds them all")
	})

	t.Run("OKQueryNameEmailOrRoleIgnoringCase", func(t *testing.T) {
		require.Equal(t, []string{grace.ID}, find(capability.StaffFilter{Query: "GRACE"}))
		require.Equal(t, []string{grace.ID}, find(capability.StaffFilter{Query: "example.org"}))
		require.Equal(t, []string{grace.ID}, find(capability.StaffFilter{Query: "design"}))
		require.Len(t, find(capability.StaffFilter{Query: "engineer", Page: capability.Page{Limit: 100}}), 11)
	})

	t.Run("OKQueryWildcardsMatchLiterally", func(t *testing.T) {
		require.Equal(t, []string{grace.ID}, find(capability.StaffFilter{Query: "e_h"}))
		require.Empty(t, find(capability.StaffFilter{Query: "n_0"}))
		require.Empty(t, find(capability.StaffFilter{Query: "%"}))
	})
}
