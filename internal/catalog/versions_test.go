package catalog_test

import (
	"io"
	"io/fs"
	"log/slog"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/capd-dev/capd/capabilities"
	"github.com/capd-dev/capd/internal/catalog"
	"github.com/capd-dev/capd/internal/registry"
	"github.com/capd-dev/capd/internal/store/sqlite"
	"github.com/capd-dev/capd/schemas"
)

// lifecycleCatalog serves a registry in which projects.create_task has a
// deprecated 0.1.0 and a stable 0.2.0, and projects.legacy_task has only a
// retired version. Handlers are not needed to browse contracts.
func lifecycleCatalog(t *testing.T) *fixture {
	t.Helper()
	raw, err := fs.ReadFile(capabilities.FS, "projects.create_task/0.1.0.yaml")
	require.NoError(t, err)
	// Start from a stable 0.1.0, whatever its status in the tree is now.
	manifest := regexp.MustCompile(`(?m)^status: \w+\n(replacement: .*\n)?`).ReplaceAllString(string(raw), "status: stable\n")
	deprecated := strings.Replace(manifest, "status: stable", "status: deprecated\nreplacement: projects.create_task@0.2.0", 1)
	v2 := strings.Replace(manifest, "version: 0.1.0", "version: 0.2.0", 1)
	legacy := strings.Replace(strings.Replace(manifest, "name: projects.create_task", "name: projects.legacy_task", 1),
		"status: stable", "status: retired\nreplacement: projects.create_task@0.2.0", 1)
	caps := fstest.MapFS{
		"projects.create_task/0.1.0.yaml": {Data: []byte(deprecated)},
		"projects.create_task/0.2.0.yaml": {Data: []byte(v2)},
		"projects.legacy_task/0.1.0.yaml": {Data: []byte(legacy)},
	}
	reg, err := registry.Load(caps, schemas.FS)
	require.NoError(t, err)
	db, err := sqlite.Open(t.Context(), sqlite.Options{Dir: t.TempDir()})
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	h, err := catalog.New(reg, db.Control(), nil, catalog.Assets, slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.NoError(t, err)
	return &fixture{handler: h, reg: reg, control: db.Control()}
}

func TestVersions(t *testing.T) {
	f := lifecycleCatalog(t)

	t.Run("BareNameShowsLatestStable", func(t *testing.T) {
		body := page(t, f.handler, "/capabilities/projects.create_task")
		assert.Contains(t, body, "<code>projects.create_task</code> · v0.2.0")
		assert.Contains(t, body, `<strong>v0.2.0</strong> <span class="muted">(this page)</span>`)
		assert.Regexp(t, `<a href="/capabilities/projects.create_task/0.1.0">v0.1.0</a>\s*<span class="badge status-deprecated">deprecated</span> <span class="replacement">use <a href="/capabilities/projects.create_task/0.2.0"><code>projects.create_task@0.2.0</code></a> instead</span>`, body)
		assert.Less(t, strings.Index(body, "v0.2.0</strong>"), strings.Index(body, ">v0.1.0</a>"), "newest first")
	})

	t.Run("DeprecatedVersion", func(t *testing.T) {
		body := page(t, f.handler, "/capabilities/projects.create_task/0.1.0")
		assert.Contains(t, body, `<p class="notice">This version is deprecated; use <a href="/capabilities/projects.create_task/0.2.0"><code>projects.create_task@0.2.0</code></a> instead.</p>`)
		assert.Regexp(t, `<a href="/capabilities/projects.create_task/0.2.0">v0.2.0</a>\s*<span class="badge status-stable">stable</span> <span class="badge tag-current">current</span>`, body)
	})

	t.Run("AllRetiredShowsNewest", func(t *testing.T) {
		body := page(t, f.handler, "/capabilities/projects.legacy_task")
		assert.Contains(t, body, "<code>projects.legacy_task</code> · v0.1.0")
		assert.Contains(t, body, "This version is retired; use")
	})

	t.Run("Index", func(t *testing.T) {
		body := page(t, f.handler, "/")
		assert.Contains(t, body, `<span class="version">v0.2.0</span> <span class="muted">(2 versions)</span>`)
		assert.Contains(t, body, `<span class="badge status-retired">retired</span>`)
	})

	t.Run("MatrixLeavesOutRetired", func(t *testing.T) {
		body := page(t, f.handler, "/providers")
		assert.Contains(t, body, "Never run")
		assert.NotContains(t, body, "legacy_task")
	})
}
