package sqlite

import (
	"context"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/capd-dev/capd/internal/capability"
)

// randomBytes returns n deterministic pseudo-random bytes: every byte value
// occurs, zeros included, so nothing text-shaped survives by luck.
func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.NewChaCha8([32]byte{'c', 'a', 'p', 'd'}).Read(b)
	return b
}

// mustCreateArtifact creates a and returns it.
func mustCreateArtifact(t testing.TB, s capability.TenantStore, a *capability.RunArtifact) *capability.RunArtifact {
	t.Helper()
	update(t, s, func(tx capability.Tx) error { return tx.CreateRunArtifact(context.Background(), a) })
	return a
}

// findArtifact reads the artifact with id and requires it to exist.
func findArtifact(t testing.TB, s capability.TenantStore, id string) *capability.RunArtifact {
	t.Helper()
	var a *capability.RunArtifact
	view(t, s, func(tx capability.Tx) error {
		var err error
		a, err = tx.FindRunArtifactByID(context.Background(), id)
		return err
	})
	return a
}

// listArtifacts returns FindRunArtifacts' answer for run.
func listArtifacts(t testing.TB, s capability.TenantStore, run string) []*capability.RunArtifact {
	t.Helper()
	var out []*capability.RunArtifact
	view(t, s, func(tx capability.Tx) error {
		var err error
		out, err = tx.FindRunArtifacts(context.Background(), run)
		return err
	})
	return out
}

func TestCreateRunArtifact(t *testing.T) {
	ctx := context.Background()
	db, clock := openTestDB(t, Options{})
	f := newWorkFixture(t, db, "acme")
	run := mustCreateRun(t, f.store, &capability.TaskRun{TaskID: f.task.ID})

	t.Run("OKFiveMiBOfBinaryRoundTrips", func(t *testing.T) {
		want := clock.Peek().UTC()
		a := mustCreateArtifact(t, f.store, newArtifact(run.ID, "build.tar", randomBytes(5<<20)))
		require.Regexp(t, regexp.MustCompile(`^art_[0-9a-f]{32}$`), a.ID)
		require.Equal(t, want, a.CreatedAt)
		got := findArtifact(t, f.store, a.ID)
		require.Equal(t, len(a.Content), len(got.Content))
		require.True(t, string(a.Content) == string(got.Content), "content differs")
		require.Equal(t, a, got)
	})

	t.Run("OKEmptyContent", func(t *testing.T) {
		a := mustCreateArtifact(t, f.store, newArtifact(run.ID, "empty.txt", nil))
		got := findArtifact(t, f.store, a.ID)
		require.NotNil(t, got.Content, "an empty artifact reads as zero bytes, not as no content")
		require.Empty(t, got.Content)
		require.Equal(t, a, got)
	})

	t.Run("OKDefaultContentType", func(t *testing.T) {
		a := newArtifact(run.ID, "blob", []byte{0, 1, 2})
		a.ContentType = ""
		mustCreateArtifact(t, f.store, a)
		require.Equal(t, DefaultArtifactContentType, findArtifact(t, f.store, a.ID).ContentType)
	})

	t.Run("ErrForeignKeyRun", func(t *testing.T) {
		err := f.store.Update(ctx, func(tx capability.Tx) error {
			return tx.CreateRunArtifact(ctx, newArtifact("run_missing", "lost.txt", []byte("x")))
		})
		require.Equal(t, sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY, sqliteCode(err))
	})

	t.Run("ErrCheckConstraints", func(t *testing.T) {
		for name, spoil := range map[string]func(*capability.RunArtifact){
			"size is not the content's": func(a *capability.RunArtifact) { a.Size++ },
			"uppercase sha256":          func(a *capability.RunArtifact) { a.SHA256 = strings.ToUpper(a.SHA256) },
			"short sha256":              func(a *capability.RunArtifact) { a.SHA256 = a.SHA256[:63] },
			"empty name":                func(a *capability.RunArtifact) { a.Name = "" },
		} {
			a := newArtifact(run.ID, "report.txt", []byte("hello"))
			spoil(a)
			err := f.store.Update(ctx, func(tx capability.Tx) error { return tx.CreateRunArtifact(ctx, a) })
			require.Equal(t, sqlite3.SQLITE_CONSTRAINT_CHECK, sqliteCode(err), name)
		}
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		view(t, f.store, func(tx capability.Tx) error {
			_, err := tx.FindRunArtifactByID(ctx, "art_missing")
			require.ErrorIs(t, err, capability.ErrNotFound)
			return nil
		})
	})
}

func TestFindRunArtifacts(t *testing.T) {
	db, _ := openTestDB(t, Options{})
	f := newWorkFixture(t, db, "acme")
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
