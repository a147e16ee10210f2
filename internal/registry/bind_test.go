package registry_test

import (
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/capd-dev/capd/internal/providers/projectkit"
	"github.com/capd-dev/capd/internal/registry"
)

// twoThings is a registry of test.thing@0.1.0 and test.other@0.1.0.
func twoThings(t *testing.T) *registry.Registry {
	t.Helper()
	r, err := load(fstest.MapFS{
		thingFile:               file(manifest(t, "test.thing", "0.1.0")),
		"test.other/0.1.0.yaml": file(manifest(t, "test.other", "0.1.0")),
	})
	require.NoError(t, err)
	return r
}

func TestBind(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		r := twoThings(t)
		require.NoError(t, r.Bind(provides("fake", "test.thing@0.1.0"), provides("other", "test.other@0.1.0")))
		for _, v := range r.Versions() {
			assert.NotNil(t, v.Handler, v.Manifest.Ref())
		}
		v, err := r.Resolve(mustParseRef(t, "test.other"))
		require.NoError(t, err)
		assert.Equal(t, "other", v.Provider)
	})

	t.Run("OKRealManifestsAndProjectkit", func(t *testing.T) {
		r := loadReal(t)
		for _, v := range r.Versions() {
			assert.Equal(t, projectkit.Name, v.Provider, v.Manifest.Ref())
		}
	})

	t.Run("ErrHandlerWithoutManifest", func(t *testing.T) {
		r := twoThings(t)
		err := r.Bind(provides("fake", "test.thing@0.1.0", "test.other@0.1.0", "test.ghost@0.1.0"))
		ps := requireProblems(t, err)
		require.Len(t, ps, 1, "%v", ps)
		assert.Equal(t, "provider fake", ps[0].File)
		assert.Contains(t, ps[0].Message, "test.ghost@0.1.0")
	})

	t.Run("ErrHandlerForUnpublishedVersion", func(t *testing.T) {
		r := twoThings(t)
		err := r.Bind(provides("fake", "test.thing@0.1.0", "test.other@0.1.0", "test.thing@0.2.0"))
		ps := requireProblems(t, err)
		require.Len(t, ps, 1, "%v", ps)
		assert.Contains(t, ps[0].Message, "test.thing@0.2.0")
	})

	t.Run("ErrManifestWithoutHandler", func(t *testing.T) {
		r := twoThings(t)
		err := r.Bind(provides("fake", "test.thing@0.1.0"))
		ps := requireProblems(t, err)
		require.Len(t, ps, 1, "%v", ps)
		assert.Equal(t, "capabilities/test.other/0.1.0.yaml", ps[0].File)
		assert.Contains(t, ps[0].Message, "test.other@0.1.0")
	})

	t.Run("ErrHandlerBoundTwice", func(t *testing.T) {
		r := twoThings(t)
		err := r.Bind(provides("fake", "test.thing@0.1.0", "test.other@0.1.0"), provides("copycat", "test.thing@0.1.0"))
		ps := requireProblems(t, err)
		require.Len(t, ps, 1, "%v", ps)
		assert.Equal(t, "capabilities/"+thingFile, ps[0].File)
		assert.Contains(t, ps[0].Message, "fake")
		assert.Contains(t, ps[0].Message, "copycat")
	})

	t.Run("ErrEveryMismatchReportedAtOnce", func(t *testing.T) {
		r := twoThings(t)
		err := r.Bind(provides("fake", "test.ghost@0.1.0"))
		ps := requireProblems(t, err)
		assert.Len(t, ps, 3, "one handler without manifest and two manifests without handler: %v", ps)
	})
}
