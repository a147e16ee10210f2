package storetest

import (
	"context"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/capd-dev/capd/internal/capability"
	"github.com/capd-dev/capd/internal/store/storecore"
)

// randomBytes returns n deterministic pseudo-random bytes: every byte value
// occurs, zeros included, so nothing text-shaped survives by luck.
func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.NewChaCha8([32]byte{'c', 'a', 'p', 'd'}).Read(b)
	return b
}

// findArtifact reads the artifact with id and requires it to exist.
func findArtifact(t testing.TB, s capability.TenantStore, id string) *capability.RunArtifact {
	t.Helper()
	return read(t, s, func(ctx context.Context, tx capability.Tx) (*capability.RunArtifact, error) {
		return tx.FindRunArtifactByID(ctx, id)
	})
}

// listArtifacts returns FindRunArtifacts' answer for run.
func listArtifacts(t testing.TB, s capability.TenantStore, run string) []*capability.RunArtifact {
	t.Helper()
	return read(t, s, func(ctx context.Context, tx capability.Tx) ([]*capability.RunArtifact, error) {
		return tx.FindRunArtifacts(ctx, run)
	})
}

// testArtifacts covers run artifacts: content stored byte for byte, read by
// id, listed without content, and checked against its size and hash.
func testArtifacts(t *testing.T, e *env) {
	ctx := context.Background()
	f := newFixture(t, e, "artifacts")
	s := f.store
	run := mustCreateRun(t, s, &capability.TaskRun{TaskID: f.task.ID})

	t.Run("OKFiveMiBOfBinaryRoundTrips", func(t *testing.T) {
		want := e.clock.Peek()
		a := mustCreateArtifact(t, s, newArtifact(run.ID, "build.tar", randomBytes(5<<20)))
		e.ids.requireIssued(t, "art", a.ID)
		requireInstant(t, want, a.CreatedAt)
		got := findArtifact(t, s, a.ID)
		require.Equal(t, len(a.Content), len(got.Content))
		require.True(t, string(a.Content) == string(got.Content), "content differs")
		require.Equal(t, a, got)
	})

	t.Run("OKEmptyContent", func(t *testing.T) {
		for _, content := range [][]byte{nil, {}} {
			a := mustCreateArtifact(t, s, newArtifact(run.ID, "empty.txt", content))
			got := findArtifact(t, s, a.ID)
			require.NotNil(t, got.Content, "an empty artifact reads as zero bytes, not as no content")
			require.Empty(t, got.Content)
			require.Equal(t, a, got)
		}
	})

	t.Run("OKDefaultContentType", func(t *testing.T) {
		a := newArtifact(run.ID, "blob", []byte{0, 1, 2})
		a.ContentType = ""
		mustCreateArtifact(t, s, a)
		require.Equal(t, storecore.DefaultArtifactContentType, a.ContentType)
		require.Equal(t, a, findArtifact(t, s, a.ID))
	})

	t.Run("OKGivenIDAndTime", func(t *testing.T) {
		created := time.Date(2024, 4, 5, 6, 7, 8, 9101112, cet)
		a := newArtifact(run.ID, "dated.txt", []byte("dated"))
		a.ID, a.CreatedAt = "art_given", created
		mustCreateArtifact(t, s, a)
		requireInstant(t, created, a.CreatedAt)
		require.Equal(t, a, findArtifact(t, s, "art_given"))
	})

	t.Run("ErrUnknownRun", func(t *testing.T) {
		err := s.Update(ctx, func(tx capability.Tx) error {
			return tx.CreateRunArtifact(ctx, newArtifact("run_missing", "lost.txt", []byte("x")))
		})
		require.Error(t, err, "the run must exist")
	})

	t.Run("ErrInvalidValues", func(t *testing.T) {
		before := len(listArtifacts(t, s, run.ID))
		for name, spoil := range map[string]func(*capability.RunArtifact){
			"size is not the content's": func(a *capability.RunArtifact) { a.Size++ },
			"negative size":             func(a *capability.RunArtifact) { a.Size = -1 },
			"uppercase sha256":          func(a *capability.RunArtifact) { a.SHA256 = strings.ToUpper(a.SHA256) },
			"short sha256":              func(a *capability.RunArtifact) { a.SHA256 = a.SHA256[:63] },
			"long sha256":               func(a *capability.RunArtifact) { a.SHA256 += "0" },
			"non-hex sha256":            func(a *capability.RunArtifact) { a.SHA256 = "g" + a.SHA256[1:] },
			"empty name":                func(a *capability.RunArtifact) { a.Name = "" },
		} {
			a := newArtifact(run.ID, "report.txt", []byte("hello"))
			spoil(a)
			err := s.Update(ctx, func(tx capability.Tx) error { return tx.CreateRunArtifact(ctx, a) })
			require.Error(t, err, name)
		}
		require.Len(t, listArtifacts(t, s, run.ID), before, "nothing was written")
	})

	t.Run("ErrAlreadyExistsSameID", func(t *testing.T) {
		a := mustCreateArtifact(t, s, newArtifact(run.ID, "once.txt", []byte("once")))
		update(t, s, func(tx capability.Tx) error {
			err := tx.CreateRunArtifact(ctx, &capability.RunArtifact{ID: a.ID, RunID: run.ID, Name: "twice.txt",
				Size: a.Size, SHA256: a.SHA256, Content: a.Content})
			requireCode(t, capability.CodeAlreadyExists, err)
			got, err := tx.FindRunArtifactByID(ctx, a.ID)
			require.NoError(t, err, "the transaction is still usable after the rejection")
			require.Equal(t, a, got, "the duplicate changed nothing")
			return nil
		})
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		view(t, s, func(tx capability.Tx) error {
			_, err := tx.FindRunArtifactByID(ctx, "art_missing")
			require.ErrorIs(t, err, capability.ErrNotFound)
			return nil
		})
	})

	t.Run("Find", func(t *testing.T) { testFindArtifacts(t, e) })
}

// testFindArtifacts covers FindRunArtifacts: one run's artifacts, oldest
// first, without content.
func testFindArtifacts(t *testing.T, e *env) {
	f := newFixture(t, e, "find-artifacts")
	run := mustCreateRun(t, f.store, &capability.TaskRun{TaskID: f.task.ID})
	other := mustCreateRun(t, f.store, &capability.TaskRun{TaskID: f.task.ID})
	var mine []*capability.RunArtifact
	for _, name := range []string{"log.txt", "coverage.html", "build.tar"} {
		mine = append(mine, mustCreateArtifact(t, f.store, newArtifact(run.ID, name, randomBytes(1000+len(name)))))
		mustCreateArtifact(t, f.store, newArtifact(other.ID, name, []byte(name)))
	}

	t.Run("OKManifestWithoutContent", func(t *testing.T) {
		got := listArtifacts(t, f.store, run.ID)
		require.Equal(t, ids(mine, artifactID), ids(got, artifactID), "oldest first, this run only")
		for i, a := range got {
			require.Nil(t, a.Content, "a listing carries no content")
			want := *mine[i]
			want.Content = nil
			require.Equal(t, &want, a, "size, sha256 and the rest are kept")
		}
	})

	t.Run("OKEmptyForUnknownRun", func(t *testing.T) {
		require.Empty(t, listArtifacts(t, f.store, "run_missing"))
		require.Empty(t, listArtifacts(t, f.store, ""))
	})
}
