package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/capd-dev/capd/internal/capability"
)

// defaultCallsLimit is how many calls or conformance results a listing
// returns when its limit is zero or below, in every store.
const defaultCallsLimit = 100

// testCalls covers the call log: batches, newest-first listings by
// tenant, since and limit, the replay flag, and the keys' last-used time.
func testCalls(t *testing.T, e *env) {
	ctx := context.Background()
	c := e.Control
	require.NoError(t, c.CreateTenant(ctx, &capability.Tenant{Slug: "acme"}))
	_, key, err := c.CreateKey(ctx, "acme", readOnly, time.Time{})
	require.NoError(t, err)

	base := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	call := func(i int, tenant string) capability.CallRecord {
		return capability.CallRecord{
			At: base.Add(time.Duration(i) * time.Second), Tenant: tenant, KeyPrefix: key.Prefix,
			Capability: "projects.create_task@0.1.0", Outcome: "ok", Duration: time.Duration(i+1) * 1500 * time.Microsecond,
			Replayed: i == 2,
		}
	}
	batch := []capability.CallRecord{call(0, "acme"), call(2, "acme"), call(1, "other"), call(3, "acme")}
	list := func(t *testing.T, tenant string, since time.Time, limit int) []capability.CallRecord {
		t.Helper()
		got, err := c.ListCalls(ctx, tenant, since, limit)
		require.NoError(t, err)
		return got
	}

	t.Run("OKEmpty", func(t *testing.T) {
		require.NoError(t, c.RecordCalls(ctx, nil))
		require.Empty(t, list(t, "", time.Time{}, 0))
	})

	require.NoError(t, c.RecordCalls(ctx, batch))

	t.Run("OKNewestFirst", func(t *testing.T) {
		require.Equal(t, []capability.CallRecord{batch[3], batch[1], batch[0]}, list(t, "acme", time.Time{}, 0),
			"every field round-trips, the replay flag included")
	})

	t.Run("OKSinceInclusive", func(t *testing.T) {
		require.Equal(t, []capability.CallRecord{batch[3], batch[1]}, list(t, "acme", base.Add(2*time.Second), 0))
		require.Equal(t, []capability.CallRecord{batch[3], batch[1]}, list(t, "acme", base.Add(2*time.Second).In(cet), 0),
			"since is an instant, whatever its zone")
		require.Empty(t, list(t, "acme", base.Add(4*time.Second), 0))
	})

	t.Run("OKLimit", func(t *testing.T) {
		require.Equal(t, []capability.CallRecord{batch[3]}, list(t, "acme", time.Time{}, 1))
	})

	t.Run("OKAllTenants", func(t *testing.T) {
		require.Equal(t, []capability.CallRecord{batch[3], batch[1], batch[2], batch[0]}, list(t, "", time.Time{}, 0))
	})

	t.Run("OKUnknownTenantEmpty", func(t *testing.T) {
		require.Empty(t, list(t, "nobody", time.Time{}, 0))
	})

	t.Run("OKUnauthenticatedCallLogged", func(t *testing.T) {
		failed := capability.CallRecord{At: base.Add(-time.Hour), Capability: "projects.create_task", Outcome: capability.CodeUnauthenticated}
		require.NoError(t, c.RecordCalls(ctx, []capability.CallRecord{failed}))
		got := list(t, "", time.Time{}, 0)
		require.Equal(t, failed, got[len(got)-1])
	})

	t.Run("OKLastUsedFollowsNewestCall", func(t *testing.T) {
		keys, err := c.ListKeys(ctx, "acme")
		require.NoError(t, err)
		require.Equal(t, base.Add(3*time.Second), keys[0].LastUsed)
		// An older batch arriving late does not move it back.
		require.NoError(t, c.RecordCalls(ctx, []capability.CallRecord{call(-5, "acme")}))
		keys, err = c.ListKeys(ctx, "acme")
		require.NoError(t, err)
		require.Equal(t, base.Add(3*time.Second), keys[0].LastUsed)
	})

	t.Run("OKDefaultLimit", func(t *testing.T) {
		many := make([]capability.CallRecord, defaultCallsLimit+1)
		for i := range many {
			many[i] = capability.CallRecord{At: base.Add(time.Duration(i) * time.Minute), Tenant: "busy", Capability: "x@1.0.0", Outcome: "ok"}
		}
		require.NoError(t, c.RecordCalls(ctx, many))
		got := list(t, "busy", time.Time{}, 0)
		require.Len(t, got, defaultCallsLimit)
		require.Equal(t, many[len(many)-1], got[0])
		require.Len(t, list(t, "busy", time.Time{}, -1), defaultCallsLimit)
		require.Len(t, list(t, "busy", time.Time{}, defaultCallsLimit+1), defaultCallsLimit+1)
	})
}
