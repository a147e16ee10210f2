package catalog_test

import (
	"html"
	"io/fs"
	"net/http"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/capd-dev/capd/capabilities"
	"github.com/capd-dev/capd/internal/capability"
	"github.com/capd-dev/capd/internal/providers/projectkit"
	"github.com/capd-dev/capd/internal/registry"
	"github.com/capd-dev/capd/internal/store/sqlite"
	"github.com/capd-dev/capd/schemas"
)

// getTaskV2 is a hand-made projects.get_task@0.2.0, written as edits of
// 0.1.0: an optional input flag, a new error code, a capped
// allowed_transitions, a history array of objects, an output that allows
// no other properties, and a reworded description.
var getTaskV2 = []struct{ old, new string }{
	{"version: 0.1.0", "version: 0.2.0"},
	{"summary: Get one task and the statuses it can be moved to next.",
		"summary: Get one task, the statuses it can be moved to next, and optionally its history."},
	{`    task_id:
      $ref: 'capd:schemas/id.json'
output_schema:
  type: object
`, `    task_id:
      $ref: 'capd:schemas/id.json'
    include_history:
      type: boolean
      description: Also return the task's status changes.
output_schema:
  type: object
  additionalProperties: false
`},
	{`        - unknown_task
      description: The rejection code when ok is false.`, `        - unknown_task
        - task_archived
      description: The rejection code when ok is false.`},
	{`      uniqueItems: true
`, `      uniqueItems: true
      maxItems: 4
`},
	{`    allowed_transitions:
      type: array`, `    history:
      type: array
      description: The task's status changes, oldest first; only with include_history.
      items:
        type: object
        additionalProperties: false
        required:
          - at
          - status
        properties:
          at:
            type: string
            format: date-time
          status:
            $ref: 'capd:schemas/task_status.json'
    allowed_transitions:
      type: array`},
	{"description: On rejection, what went wrong and what to call next.",
		"description: On rejection, what went wrong and which capability to call next."},
	{`errors:
`, `errors:
  task_archived:
    meaning: The task was archived; archived tasks are read through projects.list_tasks only.
    next: Call projects.list_tasks with the task's project_id to see it.
`},
}

// twoVersionProvider is projectkit plus a handler for the hand-made
// get_task@0.2.0, so the registry binds as at start-up.
type twoVersionProvider struct{ *projectkit.Provider }

func (p twoVersionProvider) Handlers() map[string]capability.Handler {
	hs := p.Provider.Handlers()
	hs["projects.get_task@0.2.0"] = hs["projects.get_task@0.1.0"]
	return hs
}

// twoVersionCatalog serves a copy of the real capabilities in which
// projects.get_task has a deprecated 0.1.0 and the hand-made 0.2.0.
func twoVersionCatalog(t *testing.T) *fixture {
	t.Helper()
	caps := fstest.MapFS{}
	require.NoError(t, fs.WalkDir(capabilities.FS, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(capabilities.FS, path)
		caps[path] = &fstest.MapFile{Data: data}
		return err
	}))
	v1 := string(caps["projects.get_task/0.1.0.yaml"].Data)
	v2 := v1
	for _, e := range getTaskV2 {
		require.Equal(t, 1, strings.Count(v2, e.old), "get_task 0.1.0 no longer contains %q once; update getTaskV2", e.old)
		v2 = strings.Replace(v2, e.old, e.new, 1)
	}
	caps["projects.get_task/0.2.0.yaml"] = &fstest.MapFile{Data: []byte(v2)}
	caps["projects.get_task/0.1.0.yaml"] = &fstest.MapFile{Data: []byte(strings.Replace(v1,
		"status: stable", "status: deprecated\nreplacement: projects.get_task@0.2.0", 1))}

	reg, err := registry.Load(caps, schemas.FS)
	require.NoError(t, err)
	require.NoError(t, reg.Bind(twoVersionProvider{projectkit.New()}))
	db, err := sqlite.Open(t.Context(), sqlite.Options{Dir: t.TempDir()})
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	return &fixture{handler: newCatalog(t, reg, db.Control()), reg: reg, control: db.Control()}
}

// inputChanges and outputChanges are the readable diff of get_task
// 0.1.0 → 0.2.0.
var (
	inputChanges  = []string{"+ include_history: boolean (optional)"}
	outputChanges = []string{
		"~ allowed_transitions: + maxItems 4",
		"~ error: enum + task_archived",
		"+ history: array of object (optional)",
		"+ history[].at: string, format date-time (required)",
		"+ history[].status: one of todo, doing, waiting, review, done, cancelled (required)",
		"~ additionalProperties: true → false",
	}
	outputDocChanges = []string{
		`~ message: description "On rejection, what went wrong and what to call next." → "On rejection, what went wrong and which capability to call next."`,
	}
)

// changeLines are the readable diff lines of a page, in order, as text:
// the changes to what schemas accept, or with docs the description
// changes listed apart.
func changeLines(body string, docs bool) []string {
	var out []string
	for _, part := range strings.Split(body, `<li class="chg chg-`)[1:] {
		if strings.HasPrefix(part, `doc"`) != docs {
			continue
		}
		_, code, _ := strings.Cut(part, "<code>")
		text, _, _ := strings.Cut(code, "</code>")
		out = append(out, html.UnescapeString(text))
	}
	return out
}

func TestVersionsSideBySide(t *testing.T) {
	f := twoVersionCatalog(t)

	t.Run("OK", func(t *testing.T) {
		body := page(t, f.handler, "/capabilities/projects.get_task")
		assert.Contains(t, body, `<div class="version-cols" tabindex="0" role="region"`)
		assert.Equal(t, 2, strings.Count(body, `<div class="version-col"`)+strings.Count(body, `<div class="version-col shown"`))
		v2 := strings.Index(body, `<div class="version-col shown">`)
		v1 := strings.Index(body, `<a href="/capabilities/projects.get_task/0.1.0">v0.1.0</a>`)
		require.Positive(t, v2)
		assert.Less(t, v2, v1, "newest first")
		assert.Contains(t, body, `<strong>v0.2.0</strong> <span class="muted">(this page)</span>`)
		assert.Regexp(t, `<a href="/capabilities/projects.get_task/0.1.0">v0.1.0</a>\s*<span class="badge status-deprecated">deprecated</span> <span class="replacement">use <a href="/capabilities/projects.get_task/0.2.0"><code>projects.get_task@0.2.0</code></a> instead</span>`, body)
		assert.Contains(t, body, `<p class="version-summary">Get one task, the statuses it can be moved to next, and optionally its history.</p>`)
		assert.Contains(t, body, `<p class="version-summary">Get one task and the statuses it can be moved to next.</p>`)
		assert.Contains(t, body, `<a href="/capabilities/projects.get_task/diff/0.1.0/0.2.0">compare 0.1.0 → 0.2.0</a>`)

		assert.Equal(t, append(append([]string{}, inputChanges...), outputChanges...), changeLines(body, false))
		assert.Equal(t, outputDocChanges, changeLines(body, true))
		assert.Contains(t, body, `<summary>1 description change</summary>`)
		assert.Contains(t, body, `<details class="raw-diff">`)
		assert.Contains(t, html.UnescapeString(body), `<span class="ud-add">+      "maxItems": 4,</span>`)
	})

	t.Run("SingleVersionKeepsTheList", func(t *testing.T) {
		body := page(t, f.handler, "/capabilities/projects.get_project")
		assert.NotContains(t, body, "version-cols")
		assert.Contains(t, body, `<ul class="versions">`)
	})
}

func TestComparePage(t *testing.T) {
	f := twoVersionCatalog(t)

	t.Run("OK", func(t *testing.T) {
		body := page(t, f.handler, "/capabilities/projects.get_task/diff/0.1.0/0.2.0")
		assert.Contains(t, body, "<title>projects.get_task 0.1.0 → 0.2.0 · capd</title>")
		assert.Contains(t, body, "<h1>v0.1.0 → v0.2.0</h1>")
		assert.Contains(t, body, `<a href="/capabilities/projects.get_task"><code>projects.get_task</code></a>`)
		assert.Less(t, strings.Index(body, ">v0.1.0</a>"), strings.Index(body, ">v0.2.0</a>"), "from, then to")
		assert.Contains(t, body, "optionally its history.")
		assert.Contains(t, body, `<a href="/capabilities/projects.get_task/diff/0.2.0/0.1.0">compare 0.2.0 → 0.1.0</a>`)
		assert.Equal(t, append(append([]string{}, inputChanges...), outputChanges...), changeLines(body, false))
		assert.Equal(t, outputDocChanges, changeLines(body, true))
		assert.Contains(t, body, `<h2 id="line-diff">Line diff</h2>`)
	})

	t.Run("Reverse", func(t *testing.T) {
		body := page(t, f.handler, "/capabilities/projects.get_task/diff/v0.2.0/v0.1.0")
		assert.Equal(t, []string{
			"− include_history",
			"~ allowed_transitions: − maxItems 4",
			"~ error: enum − task_archived",
			"− history",
			"~ additionalProperties: false → true",
		}, changeLines(body, false))
	})

	t.Run("SameVersionHasNoChange", func(t *testing.T) {
		body := page(t, f.handler, "/capabilities/projects.get_task/diff/0.2.0/0.2.0")
		assert.Equal(t, 2, strings.Count(body, `<p class="no-change">No change.</p>`))
		assert.NotContains(t, body, "raw-diff")
	})

	for _, tc := range []struct{ name, path, says string }{
		{"ErrUnknownTo", "/capabilities/projects.get_task/diff/0.1.0/9.9.9", "projects.get_task has no version &#34;9.9.9&#34;; its versions are 0.1.0, 0.2.0."},
		{"ErrUnknownFrom", "/capabilities/projects.get_task/diff/latest/0.2.0", "projects.get_task has no version &#34;latest&#34;"},
		{"ErrUnknownCapability", "/capabilities/projects.nope/diff/0.1.0/0.2.0", "No capability is named &#34;projects.nope&#34;."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, body := get(t, f.handler, http.MethodGet, tc.path)
			assert.Equal(t, http.StatusNotFound, res.StatusCode)
			assert.Contains(t, body, tc.says)
		})
	}
}
