package sqlite

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/capd-dev/capd/internal/capability"
)

func TestConcurrentWriters(t *testing.T) {
	ctx := context.Background()
	const writers, perWriter, readers = 16, 50, 4

	t.Run("OKOneTenantWithReaders", func(t *testing.T) {
		db, _ := openTestDB(t, Options{})
		store := createTenant(t, db, "acme")
		project := mustCreateProject(t, store, "Hot")

		var writing sync.WaitGroup
		var reads atomic.Int64
		stop := make(chan struct{})
		errs := make(chan error, writers+readers)
		for w := range writers {
			writing.Go(func() {
				for i := range perWriter {
					err := store.Update(ctx, func(tx capability.Tx) error {
						// Read then write in one transaction: the pattern
						// that fails with SQLITE_BUSY_SNAPSHOT unless the
						// write lock is taken up front.
						if _, err := tx.FindProjectByID(ctx, project.ID); err != nil {
							return err
						}
						return tx.CreateTask(ctx, &capability.Task{ProjectID: project.ID, Title: fmt.Sprintf("w%d-%d", w, i)})
					})
					if err != nil {
						errs <- err
						return
					}
				}
			})
		}
		var reading sync.WaitGroup
		for range readers {
			reading.Go(func() {
				for {
					select {
					case <-stop:
						return
					default:
					}
					err := store.View(ctx, func(tx capability.Tx) error {
						_, err := tx.FindTasks(ctx, capability.TaskFilter{ProjectID: project.ID, Page: capability.Page{Limit: 10}})
						if err != nil {
							return err
						}
						_, err = tx.CountTasksByStatus(ctx, project.ID)
						return err
					})
					if err != nil {
						errs <- err
						return
					}
					reads.Add(1)
				}
			})
		}
		writing.Wait()
		close(stop)
		reading.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}
		require.Equal(t, writers*perWriter, countTasks(t, store))
		require.Positive(t, reads.Load())

		// IDs stay unique and every task is reachable by paging.
		var got []string
		page := capability.Page{Limit: 100}
		for {
			var tasks []*capability.Task
			view(t, store, func(tx capability.Tx) error {
				var err error
				tasks, err = tx.FindTasks(ctx, capability.TaskFilter{Page: page})
				return err
			})
			if len(tasks) <= page.Limit {
				got = append(got, ids(tasks, taskID)...)
				break
			}
			got = append(got, ids(tasks[:page.Limit], taskID)...)
			page.AfterID = tasks[page.Limit-1].ID
		}
		require.Len(t, got, writers*perWriter)
		seen := map[string]bool{}
		for _, id := range got {
			require.False(t, seen[id], "duplicate %s", id)
			seen[id] = true
		}
	})

	t.Run("OKManyTenants", func(t *testing.T) {
		const tenants, perTenant = 6, 40
		db, _ := openTestDB(t, Options{MaxOpenTenants: 3}) // forces eviction under load
		stores := make([]capability.TenantStore, tenants)
		projects := make([]*capability.Project, tenants)
		for i := range tenants {
			stores[i] = createTenant(t, db, fmt.Sprintf("tenant-%d", i))
			projects[i] = mustCreateProject(t, stores[i], "P")
		}
		var wg sync.WaitGroup
		errs := make(chan error, tenants*2)
		for i := range tenants {
			for range 2 { // two writers per tenant
				wg.Go(func() {
					for j := range perTenant / 2 {
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
			require.Equal(t, perTenant, countTasks(t, stores[i]), "tenant %d", i)
		}
		require.LessOrEqual(t, db.Tenants().OpenCount(), 3)
	})
}
