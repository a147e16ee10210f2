package sqlite

import (
	"context"
	"fmt"
	"strings"
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

func TestConcurrentRunLogAppends(t *testing.T) {
	ctx := context.Background()
	const writers, appends, perAppend = 8, 20, 5

	t.Run("OKNoGapsOrDuplicates", func(t *testing.T) {
		db, _ := openTestDB(t, Options{})
		f := newWorkFixture(t, db, "acme")
		run := mustCreateRun(t, f.store, &capability.TaskRun{TaskID: f.task.ID})

		var wg sync.WaitGroup
		errs := make(chan error, writers)
		for w := range writers {
			wg.Go(func() {
				for i := range appends {
					err := f.store.Update(ctx, func(tx capability.Tx) error {
						return tx.AppendRunLog(ctx, run.ID, logLines(fmt.Sprintf("w%d a%d", w, i), perAppend))
					})
					if err != nil {
						errs <- err
						return
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}

		var all []*capability.RunLogEntry
		for after := int64(0); ; {
			page := readLog(t, f.store, run.ID, after, 0)
			if len(page) == 0 {
				break
			}
			all = append(all, page...)
			after = page[len(page)-1].Seq
		}
		const total = writers * appends * perAppend
		require.Equal(t, seqRange(1, total), seqs(all))
		// Each append's entries are consecutive and in order: appends
		// never interleave.
		for i := 0; i < total; i += perAppend {
			batch, ok := strings.CutSuffix(all[i].Message, " 0")
			require.True(t, ok, "seq %d starts an append: %q", all[i].Seq, all[i].Message)
			for j := range perAppend {
				require.Equal(t, fmt.Sprintf("%s %d", batch, j), all[i+j].Message, "seq %d", all[i+j].Seq)
			}
		}
	})
}
