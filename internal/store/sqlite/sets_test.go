package sqlite

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/capd-dev/capd/internal/capability"
)

// newSetsControl returns a control store with tenants acme and globex.
func newSetsControl(t *testing.T) (*Control, *fakeClock) {
	t.Helper()
	db, clock := openTestDB(t, Options{})
	control := db.Control()
	for _, slug := range []string{"acme", "globex"} {
		require.NoError(t, control.CreateTenant(context.Background(), &capability.Tenant{Slug: slug}))
	}
	return control, clock
}

// mustCreateSet creates s and returns it.
func mustCreateSet(t *testing.T, c *Control, s *capability.CapabilitySet) *capability.CapabilitySet {
	t.Helper()
	require.NoError(t, c.CreateSet(context.Background(), s))
	return s
}

// setKeys returns "owner/name" of each set, in order.
func setKeys(sets []*capability.CapabilitySet) []string {
	out := make([]string, len(sets))
	for i, s := range sets {
		out[i] = s.Owner + "/" + s.Name
	}
	return out
}

func TestCreateSet(t *testing.T) {
	ctx := context.Background()
	control, clock := newSetsControl(t)

	t.Run("OKRoundTrip", func(t *testing.T) {
		want := clock.Peek().UTC()
		s := mustCreateSet(t, control, &capability.CapabilitySet{
			Owner: "acme", Name: "triage", Description: "Triage tools", IsPublic: true,
			Members: []capability.SetMember{
				{Name: "projects.list"},
				{Name: "tasks.create", Version: "1.2.0"},
				{Name: "tasks.update", Notes: "status only"},
				{Name: "tasks.find", Version: "2.0.0", Notes: "pinned for the eval"},
			},
			Source: "cli", Tags: []string{"ops", "daily"}, CreatedBy: "k3x9m2ab",
		})
		require.Equal(t, want, s.CreatedAt)
		require.Equal(t, want, s.UpdatedAt)
		got, err := control.FindSet(ctx, "acme", "triage")
		require.NoError(t, err)
		require.Equal(t, s, got)
	})

	t.Run("OKNilListsStoredEmpty", func(t *testing.T) {
		s := mustCreateSet(t, control, &capability.CapabilitySet{Owner: "acme", Name: "empty"})
		require.NotNil(t, s.Members)
		require.NotNil(t, s.Tags)
		got, err := control.FindSet(ctx, "acme", "empty")
		require.NoError(t, err)
		require.Equal(t, []capability.SetMember{}, got.Members)
		require.Equal(t, []string{}, got.Tags)
		require.Equal(t, s, got)
	})

	t.Run("OKKeepsGivenTimes", func(t *testing.T) {
		created := time.Date(2025, 3, 4, 5, 6, 7, 500, time.UTC)
		updated := created.Add(time.Hour)
		mustCreateSet(t, control, &capability.CapabilitySet{Owner: "acme", Name: "dated", CreatedAt: created, UpdatedAt: updated})
		got, err := control.FindSet(ctx, "acme", "dated")
		require.NoError(t, err)
		require.Equal(t, created, got.CreatedAt)
		require.Equal(t, updated, got.UpdatedAt)
	})

	t.Run("OKSameNameOtherOwner", func(t *testing.T) {
		mustCreateSet(t, control, &capability.CapabilitySet{Owner: "globex", Name: "triage"})
	})

	t.Run("OKNameBounds", func(t *testing.T) {
		for _, name := range []string{"a", "9", "a-", strings.Repeat("a", 63)} {
			mustCreateSet(t, control, &capability.CapabilitySet{Owner: "globex", Name: name})
		}
	})

	t.Run("ErrDuplicate", func(t *testing.T) {
		err := control.CreateSet(ctx, &capability.CapabilitySet{Owner: "acme", Name: "triage"})
		require.Equal(t, capability.CodeAlreadyExists, capability.ErrorCode(err), "error: %v", err)
	})

	t.Run("ErrInvalidName", func(t *testing.T) {
		for _, name := range []string{"", "-a", "Triage", "tri_age", "tri.age", "tri age", "a/b", strings.Repeat("a", 64), "é"} {
			err := control.CreateSet(ctx, &capability.CapabilitySet{Owner: "acme", Name: name})
			require.Equal(t, capability.CodeInvalidInput, capability.ErrorCode(err), "name %q", name)
			issues := capability.AsError(err).Issues
			require.Len(t, issues, 1)
			require.Equal(t, "/name", issues[0].Path)
			require.Equal(t, "pattern", issues[0].Keyword)
		}
	})

	t.Run("ErrUnknownOwner", func(t *testing.T) {
		err := control.CreateSet(ctx, &capability.CapabilitySet{Owner: "ghost", Name: "triage"})
		require.Equal(t, capability.CodeNotFound, capability.ErrorCode(err), "error: %v", err)
	})

	t.Run("ErrTableRejectsBadName", func(t *testing.T) {
		// The CHECK holds the rule for rows written around the store.
		_, err := control.db.writer.ExecContext(ctx, `INSERT INTO capability_sets
			(owner, name, description, is_public, members, source, tags, created_by, created_at, updated_at)
			VALUES ('acme', 'Bad_Name', '', 0, '[]', '', '[]', '', '', '')`)
		require.ErrorContains(t, err, "CHECK")
	})
}

func TestFindSet(t *testing.T) {
	ctx := context.Background()
	control, _ := newSetsControl(t)
	mustCreateSet(t, control, &capability.CapabilitySet{Owner: "acme", Name: "private"})
	mustCreateSet(t, control, &capability.CapabilitySet{Owner: "acme", Name: "shared", IsPublic: true})

	t.Run("OK", func(t *testing.T) {
		got, err := control.FindSet(ctx, "acme", "private")
		require.NoError(t, err)
		require.Equal(t, "acme", got.Owner)
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		_, err := control.FindSet(ctx, "acme", "missing")
		require.ErrorIs(t, err, capability.ErrNotFound)
	})

	t.Run("ErrNotFoundForOtherOwner", func(t *testing.T) {
		// FindSet reads only the given owner's sets, public or not.
		for _, name := range []string{"private", "shared"} {
			_, err := control.FindSet(ctx, "globex", name)
			require.ErrorIs(t, err, capability.ErrNotFound, name)
		}
	})
}

func TestFindPublicSets(t *testing.T) {
	ctx := context.Background()
	control, _ := newSetsControl(t)
	require.NoError(t, control.CreateTenant(ctx, &capability.Tenant{Slug: "initech"}))
	mustCreateSet(t, control, &capability.CapabilitySet{Owner: "globex", Name: "triage", IsPublic: true})
	mustCreateSet(t, control, &capability.CapabilitySet{Owner: "acme", Name: "triage", IsPublic: true})
	mustCreateSet(t, control, &capability.CapabilitySet{Owner: "initech", Name: "triage"})
	mustCreateSet(t, control, &capability.CapabilitySet{Owner: "acme", Name: "other", IsPublic: true})

	t.Run("OKAcrossOwnersByOwner", func(t *testing.T) {
		got, err := control.FindPublicSets(ctx, "triage")
		require.NoError(t, err)
		require.Equal(t, []string{"acme/triage", "globex/triage"}, setKeys(got))
	})

	t.Run("OKNone", func(t *testing.T) {
		got, err := control.FindPublicSets(ctx, "missing")
		require.NoError(t, err)
		require.Empty(t, got)
	})
}

func TestListSets(t *testing.T) {
	ctx := context.Background()
	control, _ := newSetsControl(t)
	mustCreateSet(t, control, &capability.CapabilitySet{Owner: "acme", Name: "beta", Tags: []string{"ops"}})
	mustCreateSet(t, control, &capability.CapabilitySet{Owner: "acme", Name: "alpha", IsPublic: true, Tags: []string{"ops", "daily"}})
	mustCreateSet(t, control, &capability.CapabilitySet{Owner: "globex", Name: "alpha", IsPublic: true, Tags: []string{"daily"}})
	mustCreateSet(t, control, &capability.CapabilitySet{Owner: "globex", Name: "gamma", Tags: []string{"ops"}})
	mustCreateSet(t, control, &capability.CapabilitySet{Owner: "globex", Name: "delta", IsPublic: true, Tags: []string{"operations"}})

	list := func(t *testing.T, f capability.SetFilter) []string {
		t.Helper()
		got, err := control.ListSets(ctx, f)
		require.NoError(t, err)
		return setKeys(got)
	}

	t.Run("OKOwnSetsOnly", func(t *testing.T) {
		require.Equal(t, []string{"acme/alpha", "acme/beta"}, list(t, capability.SetFilter{Owner: "acme"}))
		require.Equal(t, []string{"globex/alpha", "globex/delta", "globex/gamma"}, list(t, capability.SetFilter{Owner: "globex"}))
	})

	t.Run("OKWithPublicByNameThenOwner", func(t *testing.T) {
		require.Equal(t, []string{"acme/alpha", "globex/alpha", "acme/beta", "globex/delta"},
			list(t, capability.SetFilter{Owner: "acme", WithPublic: true}))
	})

	t.Run("OKOtherOwnersPrivateSetsHidden", func(t *testing.T) {
		got := list(t, capability.SetFilter{Owner: "acme", WithPublic: true})
		require.NotContains(t, got, "globex/gamma")
		require.NotContains(t, list(t, capability.SetFilter{Owner: "globex", WithPublic: true}), "acme/beta")
	})

	t.Run("OKUnknownOwnerSeesPublicOnly", func(t *testing.T) {
		require.Empty(t, list(t, capability.SetFilter{Owner: "initech"}))
		require.Equal(t, []string{"acme/alpha", "globex/alpha", "globex/delta"},
			list(t, capability.SetFilter{Owner: "initech", WithPublic: true}))
	})

	t.Run("OKTagMatchesExactly", func(t *testing.T) {
		require.Equal(t, []string{"acme/alpha", "acme/beta"}, list(t, capability.SetFilter{Owner: "acme", Tag: "ops"}))
		require.Equal(t, []string{"acme/alpha", "acme/beta"}, list(t, capability.SetFilter{Owner: "acme", WithPublic: true, Tag: "ops"}),
			`"ops" does not match "operations"; globex/gamma is private`)
		require.Equal(t, []string{"acme/alpha", "globex/alpha"}, list(t, capability.SetFilter{Owner: "acme", WithPublic: true, Tag: "daily"}))
		require.Empty(t, list(t, capability.SetFilter{Owner: "acme", WithPublic: true, Tag: "op%"}))
	})

	t.Run("OKPages", func(t *testing.T) {
		f := capability.SetFilter{Owner: "acme", WithPublic: true, Limit: 3}
		require.Equal(t, []string{"acme/alpha", "globex/alpha", "acme/beta"}, list(t, f))
		f.Offset = 3
		require.Equal(t, []string{"globex/delta"}, list(t, f))
		f.Offset = 4
		require.Empty(t, list(t, f))
		f.Offset = -1
		require.Len(t, list(t, f), 3, "a negative offset is zero")
	})
}

func TestListSetsLimits(t *testing.T) {
	ctx := context.Background()
	control, _ := newSetsControl(t)
	for i := range MaxSetsLimit + 1 {
		mustCreateSet(t, control, &capability.CapabilitySet{Owner: "acme", Name: fmt.Sprintf("set-%03d", i)})
	}
	count := func(limit int) int {
		got, err := control.ListSets(ctx, capability.SetFilter{Owner: "acme", Limit: limit})
		require.NoError(t, err)
		return len(got)
	}

	t.Run("OKDefault", func(t *testing.T) {
		require.Equal(t, DefaultSetsLimit, count(0))
		require.Equal(t, DefaultSetsLimit, count(-1))
	})

	t.Run("OKCapped", func(t *testing.T) {
		require.Equal(t, MaxSetsLimit, count(MaxSetsLimit+1))
	})
}

func TestUpdateSet(t *testing.T) {
	ctx := context.Background()
	control, clock := newSetsControl(t)
	orig := mustCreateSet(t, control, &capability.CapabilitySet{
		Owner: "acme", Name: "triage", Description: "old", Members: []capability.SetMember{{Name: "a"}},
		Source: "cli", Tags: []string{"old"}, CreatedBy: "k3x9m2ab",
	})

	t.Run("OK", func(t *testing.T) {
		clock.Advance(time.Hour)
		want := clock.Peek().UTC()
		s := &capability.CapabilitySet{
			Owner: "acme", Name: "triage", Description: "new", IsPublic: true,
			Members: []capability.SetMember{{Name: "b", Version: "1.0.0", Notes: "pinned"}},
			Source:  "api", Tags: []string{"new"},
		}
		require.NoError(t, control.UpdateSet(ctx, s))
		require.Equal(t, want, s.UpdatedAt)
		require.Equal(t, orig.CreatedAt, s.CreatedAt, "set from the stored row")
		require.Equal(t, "k3x9m2ab", s.CreatedBy, "set from the stored row")
		got, err := control.FindSet(ctx, "acme", "triage")
		require.NoError(t, err)
		require.Equal(t, s, got)
		public, err := control.FindPublicSets(ctx, "triage")
		require.NoError(t, err)
		require.Equal(t, []string{"acme/triage"}, setKeys(public))
	})

	t.Run("OKNilListsStoredEmpty", func(t *testing.T) {
		require.NoError(t, control.UpdateSet(ctx, &capability.CapabilitySet{Owner: "acme", Name: "triage"}))
		got, err := control.FindSet(ctx, "acme", "triage")
		require.NoError(t, err)
		require.Equal(t, []capability.SetMember{}, got.Members)
		require.Equal(t, []string{}, got.Tags)
		require.False(t, got.IsPublic)
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		err := control.UpdateSet(ctx, &capability.CapabilitySet{Owner: "acme", Name: "missing"})
		require.ErrorIs(t, err, capability.ErrNotFound)
	})

	t.Run("ErrNotFoundForOtherOwner", func(t *testing.T) {
		err := control.UpdateSet(ctx, &capability.CapabilitySet{Owner: "globex", Name: "triage", Description: "hijack"})
		require.ErrorIs(t, err, capability.ErrNotFound)
		got, err := control.FindSet(ctx, "acme", "triage")
		require.NoError(t, err)
		require.NotEqual(t, "hijack", got.Description)
	})
}

func TestDeleteSet(t *testing.T) {
	ctx := context.Background()
	control, _ := newSetsControl(t)
	mustCreateSet(t, control, &capability.CapabilitySet{Owner: "acme", Name: "triage"})
	mustCreateSet(t, control, &capability.CapabilitySet{Owner: "globex", Name: "triage"})

	t.Run("OK", func(t *testing.T) {
		require.NoError(t, control.DeleteSet(ctx, "acme", "triage"))
		_, err := control.FindSet(ctx, "acme", "triage")
		require.ErrorIs(t, err, capability.ErrNotFound)
		_, err = control.FindSet(ctx, "globex", "triage")
		require.NoError(t, err, "the other owner's set of the same name stays")
	})

	t.Run("OKNameFreeAgain", func(t *testing.T) {
		mustCreateSet(t, control, &capability.CapabilitySet{Owner: "acme", Name: "triage"})
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		require.ErrorIs(t, control.DeleteSet(ctx, "acme", "missing"), capability.ErrNotFound)
		require.ErrorIs(t, control.DeleteSet(ctx, "ghost", "triage"), capability.ErrNotFound)
	})
}
