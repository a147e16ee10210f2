package sqlite

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/capd-dev/capd/internal/capability"
)

// TestConcurrentWritersUnderEviction: writers to more tenants than the LRU
// keeps open all commit, while tenants are evicted and reopened under
// them. Concurrent writers as such are the shared suite's (storetest).
func TestConcurrentWritersUnderEviction(t *testing.T) {
	ctx := context.Background()
	const tenants, writersPer, perWriter, maxOpen = 6, 2, 20, 3
	db := openTestDB(t, Options{MaxOpenTenants: maxOpen})
	stores := make([]capability.TenantStore, tenants)
	projects := make([]*capability.Project, tenants)
	for i := range tenants {
		stores[i] = createTenant(t, db, fmt.Sprintf("tenant-%d", i))
		projects[i] = mustCreateProject(t, stores[i], "P")
	}
	var wg sync.WaitGroup
	errs := make(chan error, tenants*writersPer)
	for i := range tenants {
		for range writersPer {
			wg.Go(func() {
				for j := range perWriter {
					err := stores[i].Update(ctx, func(tx capability.Tx) error {
						return tx.CreateTask(ctx, &capability.Task{ProjectID: projects[i].ID, Title: fmt.Sprint(j)})
					})
					if err != nil {
						errs <- err
						return
					}
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	for i := range tenants {
		var counts map[string]int
		view(t, stores[i], func(tx capability.Tx) error {
			var err error
			counts, err = tx.CountTasksByStatus(ctx, "")
			return err
		})
		require.Equal(t, writersPer*perWriter, counts[capability.TaskTodo], "tenant %d", i)
	}
	require.LessOrEqual(t, db.Tenants().OpenCount(), maxOpen)
	require.Positive(t, db.Tenants().Stats().Evictions, "tenants were evicted under load")
}
