package transfer_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/capd-dev/capd/internal/store/pgtest"
	"github.com/capd-dev/capd/internal/store/postgres"
	"github.com/capd-dev/capd/internal/store/transfer"
	"github.com/capd-dev/capd/internal/store/transfer/transfertest"
)

func TestMigrateSmoke(t *testing.T) {
	ctx := context.Background()
	f := transfertest.Populate(t, t.TempDir(), transfertest.Options{})
	src, err := transfer.OpenSource(ctx, f.Dir)
	require.NoError(t, err)
	defer src.Close()
	dst, err := postgres.Open(ctx, pgtest.DSN(t), postgres.Options{Now: f.Clock.Now})
	require.NoError(t, err)
	defer dst.Close()
	var progress bytes.Buffer
	r, err := transfer.Migrate(ctx, src, dst, transfer.Options{Progress: &progress})
	require.NoError(t, err)
	var out bytes.Buffer
	require.NoError(t, r.WriteText(&out))
	t.Log(progress.String())
	t.Log(out.String())
	require.True(t, r.OK())
}
