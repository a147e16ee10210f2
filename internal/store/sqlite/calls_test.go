package sqlite

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/capd-dev/capd/internal/capability"
)

func TestCalls(t *testing.T) {
	ctx := context.Background()
	db, _ := openTestDB(t, Options{})
	control := db.Control()
	require.NoError(t, control.CreateTenant(ctx, &capability.Tenant{Slug: "acme"}))
	_, key, err := control.CreateKey(ctx, "acme", readOnly, time.Time{})
	require.NoError(t, err)

	base := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	call := func(i int, tenant string) capability.CallRecord {
		return capability.CallRecord{
			At: base.Add(time.Duration(i) * time.Second), Tenant: tenant, KeyPrefix: key.Prefix,
			Capability: "projects.create_task@0.1.0", Outcome: "ok", Duration: time.Duration(i+1) * 1500 * time.Microsecond,
		}
	}
	batch := []capability.CallRecord{call(0, "acme"), call(2, "acme"), call(1, "other"), call(3, "acme")}
	require.NoError(t, control.RecordCalls(ctx, batch))

	t.Run("OKNewestFirst", func(t *testing.T) {
		got, err := control.ListCalls(ctx, "acme", time.Time{}, 0)
		require.NoError(t, err)
		require.Equal(t, []capability.CallRecord{batch[3], batch[1], batch[0]}, got)
	})

	t.Run("OKSinceInclusive", func(t *testing.T) {
		got, err := control.ListCalls(ctx, "acme", base.Add(2*time.Second), 0)
		require.NoError(t, err)
		require.Equal(t, []capability.CallRecord{batch[3], batch[1]}, got)
	})

	t.Run("OKLimit", func(t *testing.T) {
		got, err := control.ListCalls(ctx, "acme", time.Time{}, 1)
		require.NoError(t, err)
		require.Equal(t, []capability.CallRecord{batch[3]}, got)
	})

	t.Run("OKAllTenants", func(t *testing.T) {
		got, err := control.ListCalls(ctx, "", time.Time{}, 0)
		require.NoError(t, err)
		require.Len(t, got, 4)
		require.Equal(t, batch[2], got[2])
	})

	t.Run("OKLastUsedFollowsNewestCall", func(t *testing.T) {
		keys, err := control.ListKeys(ctx, "acme")
		require.NoError(t, err)
		require.Equal(t, base.Add(3*time.Second), keys[0].LastUsed)
		// An older batch arriving late does not move it back.
		require.NoError(t, control.RecordCalls(ctx, []capability.CallRecord{call(-5, "acme")}))
		keys, err = control.ListKeys(ctx, "acme")
		require.NoError(t, err)
		require.Equal(t, base.Add(3*time.Second), keys[0].LastUsed)
	})

	t.Run("OKEmptyBatch", func(t *testing.T) {
		require.NoError(t, control.RecordCalls(ctx, nil))
	})
}
