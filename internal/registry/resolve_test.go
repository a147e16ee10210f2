package registry_test

import (
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/capd-dev/capd/internal/capability"
	"github.com/capd-dev/capd/internal/registry"
)

func mustParseRef(t *testing.T, s string) capability.Ref {
	t.Helper()
	ref, err := registry.ParseRef(s)
	require.NoError(t, err)
	return ref
}

// lifecycle is a registry whose test.thing has one version in each state,
// and whose test.order and test.gone exercise version ordering and
// all-retired names.
func lifecycle(t *testing.T) *registry.Registry {
	t.Helper()
	r, err := load(fstest.MapFS{
		"test.thing/0.1.0.yaml":  file(manifest(t, "test.thing", "0.1.0")),
		"test.thing/0.2.0.yaml":  file(manifest(t, "test.thing", "0.2.0")),
		"test.thing/0.10.0.yaml": file(manifest(t, "test.thing", "0.10.0", withStatus(capability.StatusDeprecated, "test.thing@0.2.0"))),
		"test.thing/1.0.0.yaml":  file(manifest(t, "test.thing", "1.0.0", withStatus(capability.StatusRetired, "test.thing@0.2.0"))),
		// String order would put 0.9.0 last; semver order puts 0.10.0 last.
		"test.order/0.9.0.yaml":  file(manifest(t, "test.order", "0.9.0")),
		"test.order/0.10.0.yaml": file(manifest(t, "test.order", "0.10.0")),
		"test.gone/0.1.0.yaml":   file(manifest(t, "test.gone", "0.1.0", withStatus(capability.StatusRetired, "test.thing"))),
		"test.gone/0.2.0.yaml":   file(manifest(t, "test.gone", "0.2.0", withStatus(capability.StatusRetired, "test.thing@0.2.0"))),
		// Only deprecated: a bare name still resolves, to the newest.
		"test.old/0.1.0.yaml": file(manifest(t, "test.old", "0.1.0", withStatus(capability.StatusDeprecated, "test.thing"))),
		"test.old/0.2.0.yaml": file(manifest(t, "test.old", "0.2.0", withStatus(capability.StatusDeprecated, "test.thing"))),
		// A pre-release, newer than every release, is reached only pinned.
		"test.thing/1.1.0-beta.1.yaml": file(manifest(t, "test.thing", "1.1.0-beta.1")),
	})
	require.NoError(t, err)
	return r
}

func TestResolve(t *testing.T) {
	r := lifecycle(t)

	resolve := func(t *testing.T, s string) (*registry.Version, error) {
		t.Helper()
		return r.Resolve(mustParseRef(t, s))
	}

	t.Run("OKBareIsLatestStable", func(t *testing.T) {
		v, err := resolve(t, "test.thing")
		require.NoError(t, err)
		assert.Equal(t, "0.2.0", v.Manifest.Version)
	})
	t.Run("OKPrereleaseOnlyPinned", func(t *testing.T) {
		v, err := resolve(t, "test.thing@1.1.0-beta.1")
		require.NoError(t, err)
		assert.Equal(t, "1.1.0-beta.1", v.Manifest.Version)
		v, err = resolve(t, "test.thing")
		require.NoError(t, err)
		assert.Equal(t, "0.2.0", v.Manifest.Version, "a bare name never resolves to a pre-release")
	})
	t.Run("OKBareUsesSemverOrder", func(t *testing.T) {
		v, err := resolve(t, "test.order")
		require.NoError(t, err)
		assert.Equal(t, "0.10.0", v.Manifest.Version)
	})
	t.Run("OKVersionsInSemverOrder", func(t *testing.T) {
		var got []string
		for _, v := range r.VersionsOf("test.thing") {
			got = append(got, v.Manifest.Version)
		}
		assert.Equal(t, []string{"0.1.0", "0.2.0", "0.10.0", "1.0.0", "1.1.0-beta.1"}, got)
	})
	t.Run("OKBareWithOnlyDeprecatedIsLatestDeprecated", func(t *testing.T) {
		v, err := resolve(t, "test.old")
		require.NoError(t, err)
		assert.Equal(t, "0.2.0", v.Manifest.Version)
	})
	t.Run("OKPinnedStable", func(t *testing.T) {
		v, err := resolve(t, "test.thing@0.1.0")
		require.NoError(t, err)
		assert.Equal(t, "0.1.0", v.Manifest.Version)
	})
	t.Run("OKPinnedDeprecated", func(t *testing.T) {
		v, err := resolve(t, "test.thing@0.10.0")
		require.NoError(t, err)
		assert.Equal(t, "0.10.0", v.Manifest.Version)
		assert.Equal(t, capability.StatusDeprecated, v.Manifest.Status)
	})
	t.Run("ErrPinnedMissingVersion", func(t *testing.T) {
		_, err := resolve(t, "test.thing@9.9.9")
		assert.Equal(t, capability.CodeNotFound, capability.ErrorCode(err))
	})
	t.Run("ErrPinnedRetired", func(t *testing.T) {
		_, err := resolve(t, "test.thing@1.0.0")
		assert.Equal(t, capability.CodeUpgradeRequired, capability.ErrorCode(err))
		// The message exists to name what to call instead.
		assert.Contains(t, capability.AsError(err).Message, "test.thing@0.2.0")
	})
	t.Run("ErrUnknownCapability", func(t *testing.T) {
		_, err := resolve(t, "test.nothing")
		assert.Equal(t, capability.CodeCapabilityUnknown, capability.ErrorCode(err))
		_, err = resolve(t, "test.nothing@0.1.0")
		assert.Equal(t, capability.CodeCapabilityUnknown, capability.ErrorCode(err))
	})
	t.Run("ErrBareWithOnlyRetired", func(t *testing.T) {
		_, err := resolve(t, "test.gone")
		assert.Equal(t, capability.CodeUpgradeRequired, capability.ErrorCode(err))
		assert.Contains(t, capability.AsError(err).Message, "test.thing@0.2.0", "names the newest version's replacement")
		assert.Nil(t, r.Latest("test.gone"))
	})
}

func TestParseRef(t *testing.T) {
	t.Run("OKBare", func(t *testing.T) {
		assert.Equal(t, capability.Ref{Name: "projects.create_task"}, mustParseRef(t, "projects.create_task"))
	})
	t.Run("OKPinned", func(t *testing.T) {
		assert.Equal(t, capability.Ref{Name: "projects.create_task", Version: "0.10.2"}, mustParseRef(t, "projects.create_task@0.10.2"))
	})
	for _, bad := range []string{"x@latest", "x@^1.0.0", "x@1.0", "x@~1.0.0", "x@1.0.0+build", "x@01.0.0", "x@", "", "@1.0.0"} {
		t.Run("ErrInvalidInput/"+bad, func(t *testing.T) {
			_, err := registry.ParseRef(bad)
			assert.Equal(t, capability.CodeInvalidInput, capability.ErrorCode(err))
		})
	}
}
