package catalog_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// browserNames are the executables the browser test drives, in order of
// preference. It never downloads a browser of its own.
var browserNames = []string{"chromium", "chromium-browser", "google-chrome"}

// findBrowser returns the first browser on PATH. A missing browser fails the
// test rather than skipping it: CI must not pass without the browser test.
func findBrowser(t *testing.T) string {
	t.Helper()
	for _, name := range browserNames {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatalf("no browser found (looked for %s on PATH); `make test` installs Chromium (apt-get install chromium)", strings.Join(browserNames, ", "))
	return ""
}

// overflow is what the page reports about its width.
type overflow struct {
	ScrollWidth int `json:"scrollWidth"`
	InnerWidth  int `json:"innerWidth"`
}

// TestCatalogInBrowser drives the system Chromium through the catalog: the
// instant filter and the server-side search, the capability page, and every
// page (the set pages included) at a phone and a laptop width without
// horizontal overflow.
func TestCatalogInBrowser(t *testing.T) {
	execPath := findBrowser(t)
	f := newFixture(t)
	srv := httptest.NewServer(f.handler)
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(execPath),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-dev-shm-usage", true), // /dev/shm is small in containers
		chromedp.Flag("hide-scrollbars", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(allocCtx)
	defer cancelBrowser()

	// run evaluates a JavaScript expression in the page and decodes it.
	run := func(t *testing.T, js string, into any) {
		t.Helper()
		raw, err := chromedp.Run(bctx, chromedp.Evaluate[[]byte](js))
		require.NoError(t, err, js)
		require.NoError(t, json.Unmarshal(raw, into), js)
	}
	visibleNames := `Array.from(document.querySelectorAll("li.cap")).filter(li => li.getClientRects().length > 0).map(li => li.querySelector(".cap-name").textContent)`

	t.Run("FilterAsYouType", func(t *testing.T) {
		require.NoError(t, chromedp.Do(bctx, chromedp.Navigate(srv.URL+"/")))
		var all []string
		run(t, visibleNames, &all)
		require.Len(t, all, len(f.reg.Names()), "every capability listed before typing")

		require.NoError(t, chromedp.Do(bctx, chromedp.SendKeys(chromedp.CSS("#q"), "create_task")))
		var shown []string
		run(t, visibleNames, &shown)
		assert.Equal(t, []string{"projects.create_task"}, shown)
		var groupsShown int
		run(t, `document.querySelectorAll("section.group:not([hidden])").length`, &groupsShown)
		assert.Equal(t, 1, groupsShown, "the projects.read group hides when none of its rows match")

		// A query nothing matches shows the message instead.
		require.NoError(t, chromedp.Do(bctx, chromedp.SendKeys(chromedp.CSS("#q"), "zzz")))
		var noMatch string
		run(t, `document.getElementById("no-match").hidden ? "" : document.getElementById("no-match").textContent`, &noMatch)
		assert.Equal(t, "No capability matches “create_taskzzz”.", noMatch)
	})

	t.Run("SubmitSearch", func(t *testing.T) {
		require.NoError(t, chromedp.Do(bctx,
			chromedp.Navigate(srv.URL+"/"),
			chromedp.SendKeys(chromedp.CSS("#q"), "create_task"),
		))
		_, err := chromedp.RunResponse(bctx, chromedp.Submit(chromedp.CSS("#q")))
		require.NoError(t, err)
		loc, err := chromedp.Run(bctx, chromedp.Location())
		require.NoError(t, err)
		assert.Contains(t, loc, "?q=create_task")
		var names []string
		run(t, `Array.from(document.querySelectorAll("li.cap .cap-name")).map(e => e.textContent)`, &names)
		assert.Equal(t, []string{"projects.create_task"}, names, "the server filtered the list")
	})

	t.Run("CapabilityPage", func(t *testing.T) {
		_, err := chromedp.RunResponse(bctx, chromedp.Click(chromedp.CSS(`a.cap-title[href="/capabilities/projects.create_task"]`)))
		require.NoError(t, err)
		loc, err := chromedp.Run(bctx, chromedp.Location())
		require.NoError(t, err)
		assert.Equal(t, srv.URL+"/capabilities/projects.create_task", loc)

		var headings []string
		run(t, `Array.from(document.querySelectorAll("main h2")).map(h => h.textContent.trim())`, &headings)
		for _, h := range []string{"Semantics", "Invariants", "When to use", "Input schema", "Output schema", "Errors", "Examples", "Versions", "Recent conformance runs"} {
			assert.Contains(t, headings, h)
		}
		var providers []string
		run(t, `Array.from(new Set(Array.from(document.querySelectorAll("#conformance td.prov")).map(td => td.textContent)))`, &providers)
		assert.ElementsMatch(t, []string{switchback, driftline, atelier}, providers)
		var scripts int
		run(t, `document.querySelectorAll("main script").length`, &scripts)
		assert.Zero(t, scripts, "the malicious message stays text")
	})

	t.Run("Layout", func(t *testing.T) {
		dirs := []string{t.TempDir()}
		if d := os.Getenv("CAPD_SCREENSHOT_DIR"); d != "" {
			require.NoError(t, os.MkdirAll(d, 0o755))
			dirs = append(dirs, d)
		}
		pages := []struct{ name, path string }{
			{"index", "/"},
			{"capability", "/capabilities/projects.create_task"},
			{"providers", "/providers"},
			{"run", "/runs/" + newRun},
			{"compare", "/capabilities/projects.create_task/diff/0.1.0/0.2.0"},
			{"sets", "/sets"},
			{"set", "/sets/projects-agent"},
			{"set-unresolvable", "/sets/" + typoSet},
		}
		for _, vp := range []struct {
			name          string
			width, height int64
			mobile        bool
		}{{"phone", 390, 844, true}, {"desktop", 1280, 800, false}} {
			t.Run(vp.name, func(t *testing.T) {
				var opts []chromedp.EmulateViewportOption
				if vp.mobile {
					opts = append(opts, chromedp.EmulateScale(2), chromedp.EmulateMobile, chromedp.EmulateTouch, chromedp.EmulatePortrait)
				}
				require.NoError(t, chromedp.Do(bctx, chromedp.EmulateViewport(vp.width, vp.height, opts...), chromedp.Reload()))
				for _, p := range pages {
					require.NoError(t, chromedp.Do(bctx, chromedp.Navigate(srv.URL+p.path)))
					// Open every <details>: the raw line diffs must fit too.
					var opened int
					run(t, `document.querySelectorAll("details").forEach(d => d.open = true), document.querySelectorAll("details").length`, &opened)
					if p.name == "compare" {
						assert.Positive(t, opened, "the comparison has a line diff to open")
					}
					png, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
					require.NoError(t, err)
					for _, d := range dirs {
						require.NoError(t, os.WriteFile(filepath.Join(d, fmt.Sprintf("%s-%d-%s.png", p.name, vp.width, vp.name)), png, 0o644))
					}
					var o overflow
					run(t, `({scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth})`, &o)
					assert.LessOrEqual(t, o.ScrollWidth, o.InnerWidth, "%s at %d px overflows horizontally", p.path, vp.width)
					// A mobile browser may zoom out to fit a too-wide page,
					// which widens innerWidth; the set width is the real limit.
					assert.LessOrEqual(t, o.ScrollWidth, int(vp.width), "%s at %d px overflows horizontally", p.path, vp.width)
				}
			})
		}
	})
}
