package sqlite

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/capd-dev/capd/internal/capability"
)

// readLog returns FindRunLog's answer for run.
func readLog(t testing.TB, s capability.TenantStore, run string, afterSeq int64, limit int) []*capability.RunLogEntry {
	t.Helper()
	var out []*capability.RunLogEntry
	view(t, s, func(tx capability.Tx) error {
		var err error
		out, err = tx.FindRunLog(context.Background(), run, afterSeq, limit)
		return err
	})
	return out
}

// lastSeq returns LastRunLogSeq's answer for run.
func lastSeq(t testing.TB, s capability.TenantStore, run string) int64 {
	t.Helper()
	var last int64
	view(t, s, func(tx capability.Tx) error {
		var err error
		last, err = tx.LastRunLogSeq(context.Background(), run)
		return err
	})
	return last
}

func TestAppendRunLog(t *testing.T) {
	ctx := context.Background()
	db, clock := openTestDB(t, Options{})
	f := newWorkFixture(t, db, "acme")

	t.Run("OKNumbersAcrossAppends", func(t *testing.T) {
		r := mustCreateRun(t, f.store, &capability.TaskRun{TaskID: f.task.ID})
		require.Equal(t, int64(0), lastSeq(t, f.store, r.ID), "no entries yet")
		first := mustAppendLog(t, f.store, r.ID, logLines("first", 3)...)
		second := mustAppendLog(t, f.store, r.ID, logLines("second", 2)...)
		require.Equal(t, []int64{1, 2, 3}, seqs(first))
		require.Equal(t, []int64{4, 5}, seqs(second))
		require.Equal(t, int64(5), lastSeq(t, f.store, r.ID))
		require.Equal(t, append(first, second...), readLog(t, f.store, r.ID, 0, 0))
	})

	t.Run("OKIndependentSequencesPerRun", func(t *testing.T) {
		a := mustCreateRun(t, f.store, &capability.TaskRun{TaskID: f.task.ID})
		b := mustCreateRun(t, f.store, &capability.TaskRun{TaskID: f.other.ID})
		mustAppendLog(t, f.store, a.ID, logLines("a", 4)...)
		gotB := mustAppendLog(t, f.store, b.ID, logLines("b", 2)...)
		gotA := mustAppendLog(t, f.store, a.ID, logLines("a again", 1)...)
		require.Equal(t, []int64{1, 2}, seqs(gotB))
		require.Equal(t, []int64{5}, seqs(gotA))
		for _, e := range readLog(t, f.store, b.ID, 0, 0) {
			require.Equal(t, b.ID, e.RunID)
		}
	})

	t.Run("OKStampsAndKeepsTimes", func(t *testing.T) {
		r := mustCreateRun(t, f.store, &capability.TaskRun{TaskID: f.task.ID})
		given := testEpoch.Add(-time.Hour).UTC()
		want := clock.Peek().UTC()
		entries := mustAppendLog(t, f.store, r.ID,
			&capability.RunLogEntry{Level: "warn", Message: "clocked"},
			&capability.RunLogEntry{Level: "error", Message: "given", At: given})
		require.Equal(t, want, entries[0].At)
		require.Equal(t, given, entries[1].At)
		require.Equal(t, entries, readLog(t, f.store, r.ID, 0, 0))
	})

	t.Run("OKNothingToAppend", func(t *testing.T) {
		update(t, f.store, func(tx capability.Tx) error { return tx.AppendRunLog(ctx, "run_missing", nil) })
	})

	t.Run("ErrForeignKeyRun", func(t *testing.T) {
		err := f.store.Update(ctx, func(tx capability.Tx) error {
			return tx.AppendRunLog(ctx, "run_missing", logLines("lost", 1))
		})
		require.Equal(t, sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY, sqliteCode(err))
	})

	t.Run("ErrRollsBackWholeAppend", func(t *testing.T) {
		r := mustCreateRun(t, f.store, &capability.TaskRun{TaskID: f.task.ID})
		mustAppendLog(t, f.store, r.ID, logLines("kept", 2)...)
		err := f.store.Update(ctx, func(tx capability.Tx) error {
			if err := tx.AppendRunLog(ctx, r.ID, logLines("dropped", 3)); err != nil {
				return err
			}
			return capability.Errorf(capability.CodeInvalidInput, "rejected")
		})
		require.Equal(t, capability.CodeInvalidInput, capability.ErrorCode(err))
		require.Equal(t, int64(2), lastSeq(t, f.store, r.ID))
		require.Equal(t, []int64{3}, seqs(mustAppendLog(t, f.store, r.ID, logLines("next", 1)...)), "no gap after a rollback")
	})
}

func TestFindRunLog(t *testing.T) {
	db, _ := openTestDB(t, Options{})
	f := newWorkFixture(t, db, "acme")
	r := mustCreateRun(t, f.store, &capability.TaskRun{TaskID: f.task.ID})
	for range 5 {
		mustAppendLog(t, f.store, r.ID, logLines("line", 50)...)
	}

	t.Run("OKDefaultLimit", func(t *testing.T) {
		require.Equal(t, seqRange(1, DefaultRunLogLimit), seqs(readLog(t, f.store, r.ID, 0, 0)))
		require.Equal(t, seqRange(1, DefaultRunLogLimit), seqs(readLog(t, f.store, r.ID, 0, -1)))
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
