package storetest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/capd-dev/capd/internal/capability"
)

// Set listing bounds every store applies: ListSets returns
// defaultSetsLimit sets when the filter's limit is zero or below (as
// SetFilter says), and never more than maxSetsLimit.
const (
	defaultSetsLimit = 50
	maxSetsLimit     = 500
)

// mustCreateSet creates s and returns it.
func mustCreateSet(t testing.TB, c capability.ControlStore, s *capability.CapabilitySet) *capability.CapabilitySet {
	t.Helper()
	require.NoError(t, c.CreateSet(context.Background(), s))
	return s
}

// setKeys returns "owner/name" of each set, in order.
func setKeys(sets []*capability.CapabilitySet) []string {
	var out []string
	for _, s := range sets {
		out = append(out, s.Owner+"/"+s.Name)
	}
	return out
}

// testSets covers creating, finding, updating and deleting capability
// sets; testListSets covers listing them.
func testSets(t *testing.T, e *env) {
	ctx := context.Background()
	c := e.Control
	for _, slug := range []string{"acme", "globex", "initech"} {
		require.NoError(t, c.CreateTenant(ctx, &capability.Tenant{Slug: slug}))
	}
	find := func(t *testing.T, owner, name string) *capability.CapabilitySet {
		t.Helper()
		s, err := c.FindSet(ctx, owner, name)
		require.NoError(t, err)
		return s
	}

	var triage *capability.CapabilitySet
	t.Run("OKCreate", func(t *testing.T) {
		want := e.clock.Peek()
		triage = mustCreateSet(t, c, &capability.CapabilitySet{
			Owner: "acme", Name: "triage", Description: "Triage tools", IsPublic: true,
			Members: []capability.SetMember{
				{Name: "projects.list"},
				{Name: "tasks.create", Version: "1.2.0"},
				{Name: "tasks.update", Notes: "status only"},
				{Name: "tasks.find", Version: "2.0.0", Notes: "pinned for the eval"},
			},
			Source: "cli", Tags: []string{"ops", "daily"}, CreatedBy: "k3x9m2ab",
		})
		requireInstant(t, want, triage.CreatedAt)
		require.Equal(t, triage.CreatedAt, triage.UpdatedAt)
		require.Equal(t, triage, find(t, "acme", "triage"), "member and tag order kept")
	})

	t.Run("OKNilListsStoredEmpty", func(t *testing.T) {
		s := mustCreateSet(t, c, &capability.CapabilitySet{Owner: "acme", Name: "empty"})
		require.Equal(t, []capability.SetMember{}, s.Members)
		require.Equal(t, []string{}, s.Tags)
		require.Equal(t, s, find(t, "acme", "empty"))
	})

	t.Run("OKKeepsGivenTimes", func(t *testing.T) {
		created := time.Date(2025, 3, 4, 5, 6, 7, 500, cet)
		updated := created.Add(time.Hour)
		s := mustCreateSet(t, c, &capability.CapabilitySet{Owner: "acme", Name: "dated", CreatedAt: created, UpdatedAt: updated})
		requireInstant(t, created, s.CreatedAt)
		requireInstant(t, updated, s.UpdatedAt)
		require.Equal(t, s, find(t, "acme", "dated"))
	})

	t.Run("OKSameNameOtherOwner", func(t *testing.T) {
		mustCreateSet(t, c, &capability.CapabilitySet{Owner: "globex", Name: "triage", IsPublic: true})
	})

	t.Run("OKNameBounds", func(t *testing.T) {
		for _, name := range []string{"a", "9", "a-", strings.Repeat("b", 63)} {
			mustCreateSet(t, c, &capability.CapabilitySet{Owner: "initech", Name: name})
		}
	})

	t.Run("ErrDuplicate", func(t *testing.T) {
		err := c.CreateSet(ctx, &capability.CapabilitySet{Owner: "acme", Name: "triage", Description: "other"})
		requireCode(t, capability.CodeAlreadyExists, err)
		require.Equal(t, "Triage tools", find(t, "acme", "triage").Description, "the duplicate changed nothing")
	})

	t.Run("ErrInvalidName", func(t *testing.T) {
		for _, name := range []string{"", "-a", "Triage", "tri_age", "tri.age", "tri age", "a/b", strings.Repeat("c", 64), "é"} {
			err := c.CreateSet(ctx, &capability.CapabilitySet{Owner: "acme", Name: name})
			requireCode(t, capability.CodeInvalidInput, err, "name %q", name)
			issues := capability.AsError(err).Issues
			require.Len(t, issues, 1)
			require.Equal(t, "/name", issues[0].Path)
			require.Equal(t, "pattern", issues[0].Keyword)
		}
	})

	t.Run("ErrUnknownOwner", func(t *testing.T) {
		err := c.CreateSet(ctx, &capability.CapabilitySet{Owner: "ghost", Name: "triage"})
		requireCode(t, capability.CodeNotFound, err)
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		_, err := c.FindSet(ctx, "acme", "missing")
		require.ErrorIs(t, err, capability.ErrNotFound)
		_, err = c.FindSet(ctx, "ghost", "triage")
		require.ErrorIs(t, err, capability.ErrNotFound)
	})

	t.Run("ErrNotFoundForOtherOwner", func(t *testing.T) {
		// FindSet reads only the given owner's sets, public or not.
		for _, name := range []string{"empty", "dated"} {
			_, err := c.FindSet(ctx, "globex", name)
			require.ErrorIs(t, err, capability.ErrNotFound, name)
		}
	})

	t.Run("OKFindPublicAcrossOwnersByOwner", func(t *testing.T) {
		mustCreateSet(t, c, &capability.CapabilitySet{Owner: "initech", Name: "triage"}) // private
		got, err := c.FindPublicSets(ctx, "triage")
		require.NoError(t, err)
		require.Equal(t, []string{"acme/triage", "globex/triage"}, setKeys(got))
		require.Equal(t, triage, got[0])
	})

	t.Run("OKFindPublicNone", func(t *testing.T) {
		for _, name := range []string{"empty", "missing"} {
			got, err := c.FindPublicSets(ctx, name)
			require.NoError(t, err)
			require.Empty(t, got, name)
		}
	})

	t.Run("OKUpdate", func(t *testing.T) {
		e.clock.Advance(time.Hour)
		want := e.clock.Peek()
		s := &capability.CapabilitySet{
			Owner: "acme", Name: "triage", Description: "new", IsPublic: false,
			Members: []capability.SetMember{{Name: "b", Version: "1.0.0", Notes: "pinned"}},
			Source:  "api", Tags: []string{"new"},
		}
		require.NoError(t, c.UpdateSet(ctx, s))
		requireInstant(t, want, s.UpdatedAt)
		require.Equal(t, triage.CreatedAt, s.CreatedAt, "set from the stored row")
		require.Equal(t, "k3x9m2ab", s.CreatedBy, "set from the stored row")
		require.Equal(t, s, find(t, "acme", "triage"))
		public, err := c.FindPublicSets(ctx, "triage")
		require.NoError(t, err)
		require.Equal(t, []string{"globex/triage"}, setKeys(public), "no longer public")
	})

	t.Run("OKUpdateGivenTime", func(t *testing.T) {
		at := time.Date(2026, 1, 2, 3, 4, 5, 6789, cet)
		s := &capability.CapabilitySet{Owner: "acme", Name: "triage", IsPublic: true, UpdatedAt: at}
		require.NoError(t, c.UpdateSet(ctx, s))
		requireInstant(t, at, s.UpdatedAt)
		require.Equal(t, s, find(t, "acme", "triage"))
	})

	t.Run("OKUpdateNilListsStoredEmpty", func(t *testing.T) {
		require.NoError(t, c.UpdateSet(ctx, &capability.CapabilitySet{Owner: "acme", Name: "triage"}))
		got := find(t, "acme", "triage")
		require.Equal(t, []capability.SetMember{}, got.Members)
		require.Equal(t, []string{}, got.Tags)
		require.False(t, got.IsPublic)
	})

	t.Run("ErrUpdateNotFound", func(t *testing.T) {
		err := c.UpdateSet(ctx, &capability.CapabilitySet{Owner: "acme", Name: "missing"})
		require.ErrorIs(t, err, capability.ErrNotFound)
	})

	t.Run("ErrUpdateOtherOwnersSet", func(t *testing.T) {
		err := c.UpdateSet(ctx, &capability.CapabilitySet{Owner: "initech", Name: "dated", Description: "hijack"})
		require.ErrorIs(t, err, capability.ErrNotFound)
		require.NotEqual(t, "hijack", find(t, "acme", "dated").Description)
	})

	t.Run("OKDelete", func(t *testing.T) {
		require.NoError(t, c.DeleteSet(ctx, "acme", "triage"))
		_, err := c.FindSet(ctx, "acme", "triage")
		require.ErrorIs(t, err, capability.ErrNotFound)
		find(t, "globex", "triage") // the other owner's set of the same name stays
		find(t, "initech", "triage")
	})

	t.Run("OKDeletedNameFreeAgain", func(t *testing.T) {
		mustCreateSet(t, c, &capability.CapabilitySet{Owner: "acme", Name: "triage"})
	})

	t.Run("ErrDeleteNotFound", func(t *testing.T) {
		require.ErrorIs(t, c.DeleteSet(ctx, "acme", "missing"), capability.ErrNotFound)
		require.ErrorIs(t, c.DeleteSet(ctx, "ghost", "triage"), capability.ErrNotFound)
		require.ErrorIs(t, c.DeleteSet(ctx, "globex", "dated"), capability.ErrNotFound, "another owner's set")
		find(t, "acme", "dated")
	})
}

// testListSets covers ListSets: an owner's sets, other owners' public ones,
// the tag filter and paging.
func testListSets(t *testing.T, e *env) {
	ctx := context.Background()
	c := e.Control
	for _, slug := range []string{"acme", "globex", "initech", "many"} {
		require.NoError(t, c.CreateTenant(ctx, &capability.Tenant{Slug: slug}))
	}
	mustCreateSet(t, c, &capability.CapabilitySet{Owner: "acme", Name: "beta", Tags: []string{"ops"}})
	mustCreateSet(t, c, &capability.CapabilitySet{Owner: "acme", Name: "alpha", IsPublic: true, Tags: []string{"ops", "daily"}})
	mustCreateSet(t, c, &capability.CapabilitySet{Owner: "globex", Name: "alpha", IsPublic: true, Tags: []string{"daily"}})
	mustCreateSet(t, c, &capability.CapabilitySet{Owner: "globex", Name: "gamma", Tags: []string{"ops"}})
	mustCreateSet(t, c, &capability.CapabilitySet{Owner: "globex", Name: "delta", IsPublic: true, Tags: []string{"operations"}})

	list := func(t *testing.T, f capability.SetFilter) []string {
		t.Helper()
		got, err := c.ListSets(ctx, f)
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
		require.NotContains(t, list(t, capability.SetFilter{Owner: "acme", WithPublic: true}), "globex/gamma")
		require.NotContains(t, list(t, capability.SetFilter{Owner: "globex", WithPublic: true}), "acme/beta")
	})

	t.Run("OKOwnerWithoutSetsSeesPublicOnly", func(t *testing.T) {
		for _, owner := range []string{"initech", "ghost"} {
			require.Empty(t, list(t, capability.SetFilter{Owner: owner}))
			require.Equal(t, []string{"acme/alpha", "globex/alpha", "globex/delta"},
				list(t, capability.SetFilter{Owner: owner, WithPublic: true}))
		}
	})

	t.Run("OKTagMatchesExactly", func(t *testing.T) {
		require.Equal(t, []string{"acme/alpha", "acme/beta"}, list(t, capability.SetFilter{Owner: "acme", Tag: "ops"}))
		require.Equal(t, []string{"acme/alpha", "acme/beta"}, list(t, capability.SetFilter{Owner: "acme", WithPublic: true, Tag: "ops"}),
			`"ops" does not match "operations"; globex/gamma is private`)
		require.Equal(t, []string{"acme/alpha", "globex/alpha"}, list(t, capability.SetFilter{Owner: "acme", WithPublic: true, Tag: "daily"}))
		for _, tag := range []string{"op%", "op_", `"ops"`, "OPS", "op"} {
			require.Empty(t, list(t, capability.SetFilter{Owner: "acme", WithPublic: true, Tag: tag}), "tag %q", tag)
		}
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

	t.Run("OKDefaultAndMaximumLimit", func(t *testing.T) {
		for i := range maxSetsLimit + 1 {
			mustCreateSet(t, c, &capability.CapabilitySet{Owner: "many", Name: fmt.Sprintf("set-%03d", i)})
		}
		count := func(limit int) int {
			got, err := c.ListSets(ctx, capability.SetFilter{Owner: "many", Limit: limit})
			require.NoError(t, err)
			return len(got)
		}
		require.Equal(t, defaultSetsLimit, count(0))
		require.Equal(t, defaultSetsLimit, count(-1))
		require.Equal(t, maxSetsLimit, count(maxSetsLimit))
		require.Equal(t, maxSetsLimit, count(maxSetsLimit+1))
	})
}
