package registry_test

import (
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/capd-dev/capd/capabilities"
	"github.com/capd-dev/capd/internal/registry"
	"github.com/capd-dev/capd/schemas"
)

var updateLock = flag.Bool("update-lock", false, "record versions missing from capabilities/contracts.lock (never changes a recorded one)")

// lockPath is the lock file in the source tree.
var lockPath = filepath.Join("..", "..", "capabilities", registry.LockFile)

// TestContractsLock is the rule that published contracts are immutable:
// every version's digest must equal the one recorded when it was
// published, no recorded version may disappear, and a new version must be
// recorded (with -update-lock) when it is added.
func TestContractsLock(t *testing.T) {
	reg := loadReal(t)
	lock, err := registry.ReadLock(os.DirFS(filepath.Dir(lockPath)))
	require.NoError(t, err)
	added, problems := reg.CheckLock(lock)
	for _, p := range problems {
		t.Error(p.String())
	}
	if len(added) == 0 {
		return
	}
	if !*updateLock {
		var refs []string
		for _, v := range added {
			refs = append(refs, v.Manifest.Ref())
		}
		t.Fatalf("not in %s: %s; record them with go test ./internal/registry -run TestContractsLock -update-lock",
			lockPath, strings.Join(refs, ", "))
	}
	f, err := os.OpenFile(lockPath, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	require.NoError(t, err)
	defer f.Close()
	if len(lock) == 0 {
		_, err = f.WriteString(registry.LockHeader)
		require.NoError(t, err)
	}
	for _, v := range added {
		_, err := f.WriteString(v.Manifest.Ref() + " " + v.Digest() + "\n")
		require.NoError(t, err)
	}
}

// TestLockCatchesChanges edits a locked contract in a copy and expects the
// check to say to publish a new version; a title change is allowed.
func TestLockCatchesChanges(t *testing.T) {
	reg := loadReal(t)
	lock := registry.Lock{}
	for _, v := range reg.Versions() {
		lock[v.Manifest.Ref()] = v.Digest()
	}
	_, problems := reg.CheckLock(lock)
	require.Empty(t, problems)

	edit := func(t *testing.T, from, to string) registry.Problems {
		t.Helper()
		m := copyCapabilities(t)
		file := m["projects.get_task/0.1.0.yaml"]
		changed := strings.Replace(string(file.Data), from, to, 1)
		require.NotEqual(t, string(file.Data), changed, "the edit applies")
		m["projects.get_task/0.1.0.yaml"] = &fstest.MapFile{Data: []byte(changed)}
		edited := loadFrom(t, m)
		_, ps := edited.CheckLock(lock)
		return ps
	}
	t.Run("ErrSchemaChanged", func(t *testing.T) {
		ps := edit(t, "additionalProperties: false", "additionalProperties: true")
		require.Len(t, ps, 1)
		assert.Contains(t, ps[0].Message, "publish a new version")
	})
	t.Run("ErrSemanticsChanged", func(t *testing.T) {
		ps := edit(t, "Returns the task with", "Returns the whole task with")
		require.Len(t, ps, 1)
	})
	t.Run("OKTitleChanged", func(t *testing.T) {
		assert.Empty(t, edit(t, "title: get_task", "title: get_task (renamed)"))
	})
	t.Run("ErrDeleted", func(t *testing.T) {
		withGhost := registry.Lock{"projects.gone@0.1.0": "sha256:00"}
		for k, v := range lock {
			withGhost[k] = v
		}
		_, ps := reg.CheckLock(withGhost)
		require.Len(t, ps, 1)
		assert.Contains(t, ps[0].Message, "never deleted")
	})
}

// copyCapabilities copies the real manifests into a MapFS.
func copyCapabilities(t *testing.T) fstest.MapFS {
	t.Helper()
	m := fstest.MapFS{}
	require.NoError(t, fs.WalkDir(capabilities.FS, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(capabilities.FS, path)
		m[path] = &fstest.MapFile{Data: b}
		return err
	}))
	return m
}

// loadFrom loads manifests from m with the real shared schemas.
func loadFrom(t *testing.T, m fstest.MapFS) *registry.Registry {
	t.Helper()
	reg, err := registry.Load(m, schemas.FS)
	require.NoError(t, err)
	return reg
}
