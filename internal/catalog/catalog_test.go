package catalog_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/capd-dev/capd/internal/capability"
	"github.com/capd-dev/capd/internal/catalog"
)

// get requests path from h and returns the response and its body.
func get(t *testing.T, h http.Handler, method, path string) (*http.Response, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
	res := rec.Result()
	body, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return res, string(body)
}

// page requests path and requires a 200 HTML page.
func page(t *testing.T, h http.Handler, path string) string {
	t.Helper()
	res, body := get(t, h, http.MethodGet, path)
	require.Equal(t, http.StatusOK, res.StatusCode, "GET %s: %s", path, body)
	require.Equal(t, "text/html; charset=utf-8", res.Header.Get("Content-Type"))
	return body
}

func TestIndex(t *testing.T) {
	f := newFixture(t)

	t.Run("OK", func(t *testing.T) {
		body := page(t, f.handler, "/")
		assert.Contains(t, body, "<title>Capabilities · capd</title>")
		for _, name := range f.reg.Names() {
			assert.Contains(t, body, `href="/capabilities/`+name+`"`)
		}
		assert.Contains(t, body, `<code>projects.read</code>`)
		assert.Contains(t, body, `<code>projects.write</code>`)
		assert.Less(t, strings.Index(body, "projects.read"), strings.Index(body, "projects.write"), "read group first")
		assert.Contains(t, body, "Add a new task to a project")
		assert.Contains(t, body, `<span class="badge status-stable">stable</span>`)
		// create_task: 9 newest results, driftline-design fails one.
		assert.Regexp(t, `class="badge conf-fail"[^>]*>.*8/9`, body)
		// update_task: atelier-meridian never ran it, so 2 providers × 3 cases.
		assert.Regexp(t, `class="badge conf-pass"[^>]*>.*6/6`, body)
		assert.Contains(t, body, `<form class="search" method="get" action="/"`)
		assert.Contains(t, body, `name="q"`)
	})

	t.Run("SearchByName", func(t *testing.T) {
		body := page(t, f.handler, "/?q=create_task")
		assert.Contains(t, body, `href="/capabilities/projects.create_task"`)
		assert.NotContains(t, body, `href="/capabilities/projects.list_staff"`)
		assert.NotContains(t, body, `href="/capabilities/projects.get_project"`)
		assert.Contains(t, body, `value="create_task"`)
		assert.Contains(t, body, "Show all")
		assert.Contains(t, body, "<title>“create_task” · Capabilities · capd</title>")
	})

	t.Run("SearchIsCaseInsensitiveAndMatchesText", func(t *testing.T) {
		body := page(t, f.handler, "/?q=DISCRETE+work")
		assert.Contains(t, body, `href="/capabilities/projects.create_task"`, "when_to_use of create_task says 'a discrete work item'")
		assert.NotContains(t, body, `href="/capabilities/projects.list_tasks"`)
	})

	t.Run("SearchIgnoresMentionsOfOtherCapabilities", func(t *testing.T) {
		// create_task's when_to_use mentions `list_projects`; list_staff's
		// mentions projects.create_task. Neither is a match for the other.
		body := page(t, f.handler, "/?q=list_projects")
		assert.Contains(t, body, `href="/capabilities/projects.list_projects"`)
		assert.NotContains(t, body, `href="/capabilities/projects.create_task"`)
		body = page(t, f.handler, "/?q=assign")
		for _, name := range []string{"projects.create_task", "projects.list_staff", "projects.list_tasks", "projects.update_task"} {
			assert.Contains(t, body, `href="/capabilities/`+name+`"`)
		}
	})

	t.Run("SearchWithoutMatch", func(t *testing.T) {
		body := page(t, f.handler, "/?q=%3Cb%3Enothing")
		assert.Contains(t, body, "No capability matches “<span data-query>&lt;b&gt;nothing</span>”.")
		assert.NotContains(t, body, `class="cap"`)
		assert.NotContains(t, body, "<b>nothing")
	})
}

func TestCapabilityPage(t *testing.T) {
	f := newFixture(t)

	// 0.1.0 is seed 001's contract; the bare name may resolve to a newer
	// version.
	for _, path := range []string{"/capabilities/projects.create_task/0.1.0", "/capabilities/projects.create_task/v0.1.0"} {
		t.Run("OK"+path, func(t *testing.T) {
			body := page(t, f.handler, path)
			assert.Contains(t, body, "<title>projects.create_task · capd</title>")
			assert.Contains(t, body, `<a href="/">← capabilities</a>`)
			assert.Contains(t, body, `<code class="scope">projects.write</code>`)
			assert.Contains(t, body, "<h1>create_task</h1>")
			assert.Contains(t, body, "<code>projects.create_task</code> · v0.1.0")
			assert.Contains(t, body, "Add a new task to a project.")

			// Every section of seed 001 and beyond, in order.
			headings := regexp.MustCompile(`<h2 id="[^"]+">([^<]+)</h2>`).FindAllStringSubmatch(body, -1)
			var got []string
			for _, h := range headings {
				got = append(got, h[1])
			}
			assert.Equal(t, []string{"Semantics", "Invariants", "When to use", "Input schema", "Output schema",
				"Errors", "Examples", "Versions", "In public sets", "Recent conformance runs"}, got)

			assert.Contains(t, body, "Creates a Task row under the given <code>project_id</code> in status <code>todo</code>.")
			assert.Contains(t, body, "<li><code>project_id</code> must exist on the tenant.</li>")
			// Code spans naming a capability by its short title link to it.
			assert.Contains(t, body, `<a href="/capabilities/projects.list_projects"><code>list_projects</code></a>`)
			// Published schemas, pretty-printed with two spaces.
			// The schema reads as published: in the manifest's key order.
			assert.Contains(t, body, "<pre class=\"json\" tabindex=\"0\"><code>{\n  &#34;type&#34;: &#34;object&#34;,\n  &#34;required&#34;: [\n    &#34;project_id&#34;,")
			assert.Contains(t, body, "&#34;maxLength&#34;: 200,")
			// Errors table and examples.
			assert.Contains(t, body, "<th scope=\"row\"><code>unknown_project</code></th>")
			assert.Contains(t, body, `<a href="/capabilities/projects.list_projects">projects.list_projects</a>`)
			assert.Contains(t, body, "Create a task with only the required fields")
			assert.Contains(t, body, "&#34;task_id&#34;: &#34;tsk_0196e4f5b2c17a09913e5d7f0a4c6b28&#34;")
			// Versions: the current one marked.
			assert.Contains(t, body, `<strong>v0.1.0</strong> <span class="muted">(this page)</span>`)
			assert.Contains(t, body, `<span class="badge tag-current">current</span>`)
		})
	}

	t.Run("ConformanceRuns", func(t *testing.T) {
		body := page(t, f.handler, "/capabilities/projects.create_task/0.1.0")
		for _, p := range []string{switchback, driftline, atelier} {
			assert.Contains(t, body, `<td class="prov">`+p+`</td>`)
		}
		assert.Contains(t, body, `<span class="prov">projectkit:driftline-design</span>: <strong>2/3</strong>`)
		assert.Contains(t, body, `<span class="prov">projectkit:switchback-engineering</span>: <strong>3/3</strong>`)
		assert.Contains(t, body, `<th scope="col">pass</th><th scope="col">provider</th><th scope="col">test</th><th scope="col" class="num">ms</th><th scope="col">when</th>`)
		assert.Contains(t, body, `href="/runs/`+newRun+`#case-projectkit-driftline-design-projects.create_task-0.1.0-rejects_unknown_project"`)
		assert.Contains(t, body, `<span class="vh">fail</span>`)
		assert.Regexp(t, `<time datetime="[^"]+" title="[^"]+">\d\d-\d\d \d\d:\d\d</time>`, body)
		// Newest first: the new run's rows come before the old run's.
		assert.Less(t, strings.Index(body, "/runs/"+newRun), strings.Index(body, "/runs/"+oldRun))
		// 50 rows at most: two runs × 3 providers × 3 cases = 18 here.
		assert.Equal(t, 18, strings.Count(body, `<td class="mark-cell">`))
	})

	t.Run("MessageIsEscaped", func(t *testing.T) {
		body := page(t, f.handler, "/capabilities/projects.create_task")
		assert.NotContains(t, body, "<script>alert")
		assert.Contains(t, body, "&lt;script&gt;alert(&#34;pwned&#34;)&lt;/script&gt;")
	})

	t.Run("SharedRefsLinkToSchemas", func(t *testing.T) {
		body := page(t, f.handler, "/capabilities/projects.get_project")
		assert.Contains(t, body, `&#34;$ref&#34;: &#34;<a href="/schemas/id.json">capd:schemas/id.json</a>&#34;`)
		assert.Contains(t, body, `<a href="/schemas/project.json">capd:schemas/project.json</a>`)
	})

	t.Run("NeverRun", func(t *testing.T) {
		body := page(t, newEmptyFixture(t), "/capabilities/projects.create_task")
		assert.Contains(t, body, `<p class="empty">Never run.</p>`)
		assert.Contains(t, body, `<span class="badge conf-none"`)
	})
}

func TestSchemaPages(t *testing.T) {
	f := newFixture(t)

	t.Run("OK", func(t *testing.T) {
		body := page(t, f.handler, "/schemas/task.json")
		assert.Contains(t, body, "<title>task.json · capd</title>")
		assert.Contains(t, body, "<code>capd:schemas/task.json</code>")
		assert.Contains(t, body, "{\n  &#34;$schema&#34;: &#34;https://json-schema.org/draft/2020-12/schema&#34;,")
		assert.Contains(t, body, `href="/capabilities/projects.get_task/0.1.0"`, "used by get_task")
	})

	t.Run("Index", func(t *testing.T) {
		body := page(t, f.handler, "/schemas")
		assert.Contains(t, body, `<a href="/schemas/id.json"><code>id.json</code></a>`)
		assert.Contains(t, body, `<a href="/schemas/manifest.schema.json">`)
	})
}

func TestProvidersPage(t *testing.T) {
	f := newFixture(t)
	body := page(t, f.handler, "/providers")

	for _, p := range []string{"switchback-engineering", "driftline-design", "atelier-meridian"} {
		assert.Contains(t, body, `<span class="prov-kind">projectkit:</span><wbr><span class="prov-instance">`+p+`</span>`)
	}
	for _, v := range f.reg.Versions() {
		assert.Contains(t, body, `<a href="/capabilities/`+v.Manifest.Name+`/`+v.Manifest.Version+`">`)
	}
	// Columns are sorted: atelier, driftline, switchback. create_task fails
	// on driftline only.
	cells := regexp.MustCompile(`(?s)projects\.</span><wbr>create_task</a><span class="ref-ver">@0\.1\.0</span></th>(.*?)</tr>`).FindStringSubmatch(body)
	require.Len(t, cells, 2)
	assert.Regexp(t, `(?s)cell-passing.*3/3.*cell-failing"><a href="#failing-projectkit-driftline-design-projects.create_task-0.1.0"><strong>2/3</strong>.*cell-passing.*3/3`, cells[1])
	// atelier-meridian never checked update_task.
	cells = regexp.MustCompile(`(?s)update_task</a><span class="ref-ver">@0\.1\.0</span></th>(.*?)</tr>`).FindStringSubmatch(body)
	require.Len(t, cells, 2)
	assert.Regexp(t, `(?s)^\s*<td class="cell cell-none"><span title="no result recorded">—</span></td>\s*<td class="cell cell-passing">`, cells[1])

	// The failing cases, with messages, link to the case in its run.
	assert.Contains(t, body, `<section class="failing" id="failing-projectkit-driftline-design-projects.create_task-0.1.0">`)
	assert.Contains(t, body, `href="/runs/`+newRun+`#case-projectkit-driftline-design-projects.create_task-0.1.0-rejects_unknown_project"`)
	assert.Contains(t, body, "&lt;script&gt;alert(")
	assert.NotContains(t, body, "<script>alert")
}

func TestRunPage(t *testing.T) {
	f := newFixture(t)

	t.Run("OK", func(t *testing.T) {
		body := page(t, f.handler, "/runs/"+newRun)
		assert.Contains(t, body, "<code>"+newRun+"</code>")
		total := 3*3*len(f.reg.Versions()) - 3 // atelier skips update_task
		failed := len(f.reg.VersionsOf("projects.create_task"))
		assert.Regexp(t, `<span class="sum-pass">`+strconv.Itoa(total-failed)+` passed</span>,\s*<span class="sum-fail">`+strconv.Itoa(failed)+` failed</span>,\s*<span class="sum-zero">0 errored</span>`, body)
		assert.Contains(t, body, "· started <time datetime=")
		assert.Contains(t, body, "· took ")
		for _, p := range []string{switchback, driftline, atelier} {
			assert.Contains(t, body, `<h2><span class="prov">`+p+`</span>`)
		}
		assert.Contains(t, body, `<tr id="case-projectkit-driftline-design-projects.create_task-0.1.0-rejects_unknown_project" class="o-fail">`)
		assert.Contains(t, body, `<td class="msg">&lt;script&gt;alert(&#34;pwned&#34;)&lt;/script&gt; expected error unknown_project, got ok</td>`)
		assert.NotContains(t, body, "<script>alert")
		assert.Equal(t, total, strings.Count(body, `<td class="mark-cell">`))
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		res, body := get(t, f.handler, http.MethodGet, "/runs/run_nope")
		assert.Equal(t, http.StatusNotFound, res.StatusCode)
		assert.Contains(t, body, "No conformance run has the id &#34;run_nope&#34;.")
	})
}

func TestNotFound(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct{ path, says string }{
		{"/capabilities/projects.nope", "No capability is named"},
		{"/capabilities/projects.create_task/9.9.9", "projects.create_task has no version &#34;9.9.9&#34;; its versions are 0.1.0"},
		{"/runs/run_unknown", "No conformance run has the id"},
		{"/schemas/nope.json", "There is no shared schema file"},
		{"/schemas/cases.schema", "There is no shared schema file"},
		{"/static/nope.css", "There is no static file"},
		{"/nowhere/at/all", "Nothing lives at /nowhere/at/all"},
	} {
		t.Run(tc.path, func(t *testing.T) {
			res, body := get(t, f.handler, http.MethodGet, tc.path)
			assert.Equal(t, http.StatusNotFound, res.StatusCode)
			assert.Equal(t, "text/html; charset=utf-8", res.Header.Get("Content-Type"))
			assert.Contains(t, body, `<p class="error-status">404</p>`)
			assert.Contains(t, body, tc.says)
			assert.Contains(t, body, `<a href="/">All capabilities</a>`)
			assert.Contains(t, body, "/static/catalog.css?v=", "styled like every page")
		})
	}
}

func TestMethodNotAllowed(t *testing.T) {
	f := newFixture(t)
	for _, path := range []string{"/", "/providers", "/capabilities/projects.create_task", "/nowhere"} {
		res, _ := get(t, f.handler, http.MethodPost, path)
		assert.Equal(t, http.StatusMethodNotAllowed, res.StatusCode, path)
		assert.Contains(t, res.Header.Get("Allow"), "GET")
	}
}

func TestSecurityHeaders(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct {
		method, path string
	}{
		{http.MethodGet, "/"}, {http.MethodGet, "/capabilities/projects.create_task"}, {http.MethodGet, "/providers"},
		{http.MethodGet, "/runs/" + newRun}, {http.MethodGet, "/schemas/task.json"}, {http.MethodGet, "/static/catalog.css"},
		{http.MethodGet, "/nope"}, {http.MethodPost, "/"},
	} {
		res, body := get(t, f.handler, tc.method, tc.path)
		assert.Equal(t, "default-src 'self'", res.Header.Get("Content-Security-Policy"), tc.path)
		assert.Equal(t, "nosniff", res.Header.Get("X-Content-Type-Options"), tc.path)
		// Nothing is fetched from elsewhere, and nothing inline needs an
		// exception to the policy.
		assert.NotRegexp(t, `(src|href)="(https?:)?//`, body, tc.path)
		assert.NotContains(t, body, "style=", tc.path)
		assert.NotRegexp(t, `<script>[^<]`, body, tc.path)
	}
}

func TestStatic(t *testing.T) {
	f := newFixture(t)
	body := page(t, f.handler, "/")
	m := regexp.MustCompile(`href="(/static/catalog\.css\?v=([0-9a-f]{12}))"`).FindStringSubmatch(body)
	require.Len(t, m, 3)

	t.Run("Versioned", func(t *testing.T) {
		res, css := get(t, f.handler, http.MethodGet, m[1])
		assert.Equal(t, http.StatusOK, res.StatusCode)
		assert.Equal(t, "text/css; charset=utf-8", res.Header.Get("Content-Type"))
		assert.Equal(t, "public, max-age=31536000, immutable", res.Header.Get("Cache-Control"))
		assert.Contains(t, css, "overflow-x: auto")
	})

	t.Run("Unversioned", func(t *testing.T) {
		res, _ := get(t, f.handler, http.MethodGet, "/static/catalog.js")
		assert.Equal(t, http.StatusOK, res.StatusCode)
		assert.Equal(t, "no-cache", res.Header.Get("Cache-Control"))
		assert.Contains(t, res.Header.Get("Content-Type"), "javascript")
	})
}

// failingControl is a control store whose conformance queries fail with a
// message that must never reach a page.
type failingControl struct{ capability.ControlStore }

var errSecret = errors.New("SQL logic error: no such table conformance_results_SECRET")

func (failingControl) LatestConformance(context.Context, capability.ConformanceFilter) ([]capability.ConformanceResult, error) {
	return nil, errSecret
}

func (failingControl) ListConformance(context.Context, capability.ConformanceFilter) ([]capability.ConformanceResult, error) {
	return nil, errSecret
}

func TestServerError(t *testing.T) {
	f := newFixture(t)
	var logs strings.Builder
	h, err := catalog.New(f.reg, failingControl{f.control}, f.sets, catalog.Assets, slog.New(slog.NewTextHandler(&logs, nil)))
	require.NoError(t, err)
	for _, path := range []string{"/", "/capabilities/projects.create_task", "/providers", "/runs/" + newRun} {
		res, body := get(t, h, http.MethodGet, path)
		assert.Equal(t, http.StatusInternalServerError, res.StatusCode, path)
		assert.Contains(t, body, "Something went wrong")
		assert.NotContains(t, body, "SECRET")
		assert.Equal(t, "default-src 'self'", res.Header.Get("Content-Security-Policy"))
	}
	assert.Contains(t, logs.String(), "SECRET", "the cause is logged")
}

// TestAssetsFromDisk is the template-development path: the same pages from
// the files on disk.
func TestAssetsFromDisk(t *testing.T) {
	f := newFixture(t)
	h, err := catalog.New(f.reg, f.control, f.sets, os.DirFS("assets"), nil)
	require.NoError(t, err)
	assert.Contains(t, page(t, h, "/capabilities/projects.create_task"), "Recent conformance runs")
}
