package storetest

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/capd-dev/capd/internal/capability"
)

// testConcurrency: concurrent Updates of one tenant serialise, whether they
// come through one opener or two (two processes, two nodes), so every
// read-then-write sees the state the previous one left.
func testConcurrency(t *testing.T, e *env) {
	require.NotNil(t, e.OpenAgain, "Stores.OpenAgain is required")
	second := e.OpenAgain(t, e.opts)
	// stores returns a tenant's store through each opener.
	stores := func(t *testing.T, slug string) [2]capability.TenantStore {
		t.Helper()
		a := e.tenant(t, slug)
		b, err := second.Tenants.Tenant(context.Background(), slug)
		require.NoError(t, err)
		return [2]capability.TenantStore{a, b}
	}

	t.Run("OKTransitionsSerialise", func(t *testing.T) { testConcurrentTransitions(t, e, stores(t, "concurrent-transitions")) })
	t.Run("OKLogAppendsNeverInterleave", func(t *testing.T) { testConcurrentLogAppends(t, e, stores(t, "concurrent-logs")) })
	t.Run("OKWritersBesideReaders", func(t *testing.T) { testWritersBesideReaders(t, e, stores(t, "concurrent-readers")) })
	t.Run("OKManyTenants", func(t *testing.T) { testConcurrentTenants(t, e) })
}

// collectErrors waits for wg and fails t with the first error sent to errs.
func collectErrors(t *testing.T, wg *sync.WaitGroup, errs chan error) {
	t.Helper()
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
}

// testConcurrentTransitions: each writer reads a task and writes back a
// successor of what it read, as a transition does, and records the move
// as an action. Were two writers to read the same state, a move would be
// lost and the history would not be a walk of the cycle.
func testConcurrentTransitions(t *testing.T, e *env, s [2]capability.TenantStore) {
	ctx := context.Background()
	p := mustCreateProject(t, s[0], "Hot")
	task := mustCreateTask(t, s[0], &capability.Task{ProjectID: p.ID, Title: "Contended", Description: "0"})
	next := map[string]string{
		capability.TaskTodo: capability.TaskDoing, capability.TaskDoing: capability.TaskReview,
		capability.TaskReview: capability.TaskTodo,
	}
	const writers = 20
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Go(func() {
			errs <- s[w%2].Update(ctx, func(tx capability.Tx) error {
				got, err := tx.FindTaskByID(ctx, task.ID)
				if err != nil {
					return err
				}
				n, err := strconv.Atoi(got.Description)
				if err != nil {
					return err
				}
				got.Description = strconv.Itoa(n + 1)
				got.Status = next[got.Status]
				got.UpdatedAt = e.clock.Now()
				if err := tx.UpdateTask(ctx, got); err != nil {
					return err
				}
				return tx.CreateTaskAction(ctx, &capability.TaskAction{TaskID: got.ID, Title: "moved to " + got.Status})
			})
		})
	}
	collectErrors(t, &wg, errs)

	got := findTask(t, s[1], task.ID)
	require.Equal(t, strconv.Itoa(writers), got.Description, "no transition was lost")
	require.Equal(t, capability.TaskReview, got.Status, "20 moves round todo→doing→review")
	acts := read(t, s[0], func(ctx context.Context, tx capability.Tx) ([]*capability.TaskAction, error) {
		return tx.FindTaskActions(ctx, task.ID, capability.Page{Limit: 100})
	})
	require.Len(t, acts, writers)
	// Ids are handed out in commit order here (each writer takes one
	// inside its transaction), so the history, in id order, is a valid
	// walk of the cycle.
	status := capability.TaskTodo
	for _, a := range acts {
		status = next[status]
		require.Equal(t, "moved to "+status, a.Title)
	}
}

// testConcurrentLogAppends: appends from many writers get consecutive
// sequence numbers with no gaps or duplicates, and each append's entries
// stay together and in order.
func testConcurrentLogAppends(t *testing.T, e *env, s [2]capability.TenantStore) {
	ctx := context.Background()
	p := mustCreateProject(t, s[0], "Logs")
	task := mustCreateTask(t, s[0], &capability.Task{ProjectID: p.ID, Title: "Logged"})
	run := mustCreateRun(t, s[0], &capability.TaskRun{TaskID: task.ID})
	const writers, appends, perAppend = 8, 10, 5
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Go(func() {
			for i := range appends {
				err := s[w%2].Update(ctx, func(tx capability.Tx) error {
					return tx.AppendRunLog(ctx, run.ID, logLines(fmt.Sprintf("w%d a%d", w, i), perAppend))
				})
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	collectErrors(t, &wg, errs)

	var all []*capability.RunLogEntry
	for after := int64(0); ; {
		page := readLog(t, s[1], run.ID, after, 0)
		if len(page) == 0 {
			break
		}
		all = append(all, page...)
		after = page[len(page)-1].Seq
	}
	const total = writers * appends * perAppend
	require.Equal(t, seqRange(1, total), seqs(all))
	for i := 0; i < total; i += perAppend {
		batch, ok := strings.CutSuffix(all[i].Message, " 0")
		require.True(t, ok, "seq %d starts an append: %q", all[i].Seq, all[i].Message)
		for j := range perAppend {
			require.Equal(t, fmt.Sprintf("%s %d", batch, j), all[i+j].Message, "seq %d", all[i+j].Seq)
		}
	}
}

// testWritersBesideReaders: writers that read before they write (the
// pattern that fails under optimistic locking) all commit while readers
// keep reading, and every row they wrote is there once.
func testWritersBesideReaders(t *testing.T, e *env, s [2]capability.TenantStore) {
	ctx := context.Background()
	project := mustCreateProject(t, s[0], "Hot")
	const writers, perWriter, readers = 8, 20, 4

	var writing sync.WaitGroup
	var reads atomic.Int64
	stop := make(chan struct{})
	errs := make(chan error, writers+readers)
	for w := range writers {
		writing.Go(func() {
			for i := range perWriter {
				err := s[w%2].Update(ctx, func(tx capability.Tx) error {
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
	for r := range readers {
		reading.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				err := s[r%2].View(ctx, func(tx capability.Tx) error {
					if _, err := tx.FindTasks(ctx, capability.TaskFilter{ProjectID: project.ID, Page: capability.Page{Limit: 10}}); err != nil {
						return err
					}
					_, err := tx.CountTasksByStatus(ctx, project.ID)
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
	collectErrors(t, &reading, errs)
	require.Positive(t, reads.Load())

	require.Equal(t, writers*perWriter, countTasks(t, s[1]))
	got, _ := allPages(t, 100, func(p capability.Page) []string {
		return ids(read(t, s[0], func(ctx context.Context, tx capability.Tx) ([]*capability.Task, error) {
			return tx.FindTasks(ctx, capability.TaskFilter{Page: p})
		}), taskID)
	})
	require.Len(t, got, writers*perWriter)
	seen := map[string]bool{}
	for _, id := range got {
		require.False(t, seen[id], "duplicate %s", id)
		seen[id] = true
	}
}

// testConcurrentTenants: writers to different tenants at once each see
// only their own tenant's rows.
func testConcurrentTenants(t *testing.T, e *env) {
	ctx := context.Background()
	const tenants, writersPer, perWriter = 6, 2, 15
	stores := make([]capability.TenantStore, tenants)
	projects := make([]*capability.Project, tenants)
	for i := range tenants {
		stores[i] = e.tenant(t, fmt.Sprintf("concurrent-tenant-%d", i))
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
	collectErrors(t, &wg, errs)
	for i := range tenants {
		require.Equal(t, writersPer*perWriter, countTasks(t, stores[i]), "tenant %d", i)
	}
}
