package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/capd-dev/capd/internal/capability"
	"github.com/capd-dev/capd/internal/store/storecore"
)

// readLog returns FindRunLog's answer for run.
func readLog(t testing.TB, s capability.TenantStore, run string, afterSeq int64, limit int) []*capability.RunLogEntry {
	t.Helper()
	return read(t, s, func(ctx context.Context, tx capability.Tx) ([]*capability.RunLogEntry, error) {
		return tx.FindRunLog(ctx, run, afterSeq, limit)
	})
}

// lastSeq returns LastRunLogSeq's answer for run.
func lastSeq(t testing.TB, s capability.TenantStore, run string) int64 {
	t.Helper()
	return read(t, s, func(ctx context.Context, tx capability.Tx) (int64, error) { return tx.LastRunLogSeq(ctx, run) })
}

// testRunLogs covers the append-only run log: numbering from 1 in append
// order per run, tailing by Seq, and all-or-nothing appends.
func testRunLogs(t *testing.T, e *env) {
	ctx := context.Background()
	f := newFixture(t, e, "run-logs")
	s := f.store

	t.Run("OKNumbersAcrossAppends", func(t *testing.T) {
		r := mustCreateRun(t, s, &capability.TaskRun{TaskID: f.task.ID})
		require.Equal(t, int64(0), lastSeq(t, s, r.ID), "no entries yet")
		require.Empty(t, readLog(t, s, r.ID, 0, 0))
		first := mustAppendLog(t, s, r.ID, logLines("first", 3)...)
		var second []*capability.RunLogEntry
		update(t, s, func(tx capability.Tx) error {
			require.NoError(t, tx.AppendRunLog(ctx, r.ID, nil), "nothing to append")
			second = logLines("second", 2)
			if err := tx.AppendRunLog(ctx, r.ID, second[:1]); err != nil {
				return err
			}
			return tx.AppendRunLog(ctx, r.ID, second[1:])
		})
		require.Equal(t, []int64{1, 2, 3}, seqs(first))
		require.Equal(t, []int64{4, 5}, seqs(second), "appends within one transaction see each other")
		require.Equal(t, r.ID, second[0].RunID)
		require.Equal(t, int64(5), lastSeq(t, s, r.ID))
		require.Equal(t, append(first, second...), readLog(t, s, r.ID, 0, 0), "what the caller holds is what a read returns")
		require.Equal(t, []*capability.RunLogEntry{first[2], second[0]}, readLog(t, s, r.ID, 2, 2))
	})

	t.Run("OKIndependentSequencesPerRun", func(t *testing.T) {
		a := mustCreateRun(t, s, &capability.TaskRun{TaskID: f.task.ID})
		b := mustCreateRun(t, s, &capability.TaskRun{TaskID: f.other.ID})
		mustAppendLog(t, s, a.ID, logLines("a", 4)...)
		gotB := mustAppendLog(t, s, b.ID, logLines("b", 2)...)
		gotA := mustAppendLog(t, s, a.ID, logLines("a again", 1)...)
		require.Equal(t, []int64{1, 2}, seqs(gotB))
		require.Equal(t, []int64{5}, seqs(gotA))
		require.Equal(t, gotB, readLog(t, s, b.ID, 0, 0))
	})

	t.Run("OKStampsAndKeepsTimes", func(t *testing.T) {
		r := mustCreateRun(t, s, &capability.TaskRun{TaskID: f.task.ID})
		given := epoch.Add(-time.Hour)
		want := e.clock.Peek()
		entries := mustAppendLog(t, s, r.ID,
			&capability.RunLogEntry{Level: "warn", Message: "clocked"},
			&capability.RunLogEntry{Level: "error", Message: "given", At: given})
		requireInstant(t, want, entries[0].At)
		requireInstant(t, given, entries[1].At)
		require.Equal(t, entries, readLog(t, s, r.ID, 0, 0))
	})

	t.Run("OKKeepsText", func(t *testing.T) {
		r := mustCreateRun(t, s, &capability.TaskRun{TaskID: f.task.ID})
		entries := mustAppendLog(t, s, r.ID,
			&capability.RunLogEntry{Level: "", Message: ""},
			&capability.RunLogEntry{Level: "debug", Message: "multi\nline\ttabbed 'quoted' \"twice\" \\ ünïcødé"})
		require.Equal(t, entries, readLog(t, s, r.ID, 0, 0))
	})

	t.Run("OKNothingToAppend", func(t *testing.T) {
		update(t, s, func(tx capability.Tx) error { return tx.AppendRunLog(ctx, "run_missing", nil) })
	})

	t.Run("ErrUnknownRun", func(t *testing.T) {
		err := s.Update(ctx, func(tx capability.Tx) error {
			return tx.AppendRunLog(ctx, "run_missing", logLines("lost", 1))
		})
		require.Error(t, err, "the run must exist")
		require.Empty(t, readLog(t, s, "run_missing", 0, 0))
	})

	t.Run("ErrRollsBackWholeAppend", func(t *testing.T) {
		r := mustCreateRun(t, s, &capability.TaskRun{TaskID: f.task.ID})
		mustAppendLog(t, s, r.ID, logLines("kept", 2)...)
		err := s.Update(ctx, func(tx capability.Tx) error {
			if err := tx.AppendRunLog(ctx, r.ID, logLines("dropped", 3)); err != nil {
				return err
			}
			return capability.Errorf(capability.CodeInvalidInput, "rejected")
		})
		requireCode(t, capability.CodeInvalidInput, err)
		require.Equal(t, int64(2), lastSeq(t, s, r.ID))
		require.Equal(t, []int64{3}, seqs(mustAppendLog(t, s, r.ID, logLines("next", 1)...)), "no gap after a rollback")
	})

	t.Run("Find", func(t *testing.T) { testFindRunLog(t, e) })
}

// testFindRunLog covers FindRunLog: the default limit and tailing after the
// last Seq seen.
func testFindRunLog(t *testing.T, e *env) {
	f := newFixture(t, e, "find-run-log")
	r := mustCreateRun(t, f.store, &capability.TaskRun{TaskID: f.task.ID})
	for range 5 {
		mustAppendLog(t, f.store, r.ID, logLines("line", 50)...)
	}

	t.Run("OKDefaultLimit", func(t *testing.T) {
		require.Equal(t, seqRange(1, storecore.DefaultRunLogLimit), seqs(readLog(t, f.store, r.ID, 0, 0)))
		require.Equal(t, seqRange(1, storecore.DefaultRunLogLimit), seqs(readLog(t, f.store, r.ID, 0, -1)))
	})

	t.Run("OKTailPaging", func(t *testing.T) {
		var got []int64
		var after int64
		pages := 0
		for {
			page := readLog(t, f.store, r.ID, after, 60)
			pages++
			if len(page) == 0 {
				break
			}
			got = append(got, seqs(page)...)
			after = page[len(page)-1].Seq
		}
		require.Equal(t, seqRange(1, 250), got)
		require.Equal(t, 6, pages, "four pages of 60, one of 10 and an empty one")
	})

	t.Run("OKTailAfterLastSeen", func(t *testing.T) {
		last := lastSeq(t, f.store, r.ID)
		require.Equal(t, seqRange(last-9, last), seqs(readLog(t, f.store, r.ID, last-10, 0)))
		require.Empty(t, readLog(t, f.store, r.ID, last, 0), "nothing new yet")
		mustAppendLog(t, f.store, r.ID, logLines("new", 2)...)
		require.Equal(t, []int64{last + 1, last + 2}, seqs(readLog(t, f.store, r.ID, last, 0)))
	})

	t.Run("OKUnknownRunIsEmpty", func(t *testing.T) {
		require.Empty(t, readLog(t, f.store, "run_missing", 0, 0))
		require.Equal(t, int64(0), lastSeq(t, f.store, "run_missing"))
	})
}
