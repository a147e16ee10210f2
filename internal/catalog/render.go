package catalog

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"time"

	"github.com/capd-dev/capd/internal/tooldef"
)

// pageNames are the templates under assets/templates besides base.html; each
// defines "title" and "content" for the base layout.
var pageNames = []string{"index", "capability", "compare", "schema", "schemas", "providers", "run", "sets", "set", "error"}

// pages holds one template set per page: the base layout plus that page.
type pages struct {
	byName map[string]*template.Template
}

// view is what every template executes with: the layout's fields plus the
// page's own data.
type view struct {
	Title   string // the page's subject; the layout appends " · capd"
	Section string // which top-level navigation item is current
	Sets    bool   // the catalog has set pages to link to; render sets it
	Data    any
}

func parsePages(assets fs.FS, static *staticFiles) (*pages, error) {
	funcs := template.FuncMap{
		"static": static.url,
		"when":   formatWhen,
		"iso":    formatISO,
		"full":   formatFull,
		"ms":     func(d time.Duration) int64 { return d.Milliseconds() },
		"dur":    func(d time.Duration) string { return d.Round(time.Millisecond).String() },
		"num":    formatCount,
		// bytesPerToken is the rate budgets estimate tokens at.
		"bytesPerToken": func() int { return tooldef.BytesPerToken },
	}
	base, err := template.New("base.html").Funcs(funcs).ParseFS(assets, "templates/base.html")
	if err != nil {
		return nil, fmt.Errorf("catalog: parse base template: %w", err)
	}
	p := &pages{byName: map[string]*template.Template{}}
	for _, name := range pageNames {
		t, err := base.Clone()
		if err != nil {
			return nil, err
		}
		if _, err := t.ParseFS(assets, "templates/"+name+".html"); err != nil {
			return nil, fmt.Errorf("catalog: parse %s template: %w", name, err)
		}
		p.byName[name] = t
	}
	return p, nil
}

// render executes page into a buffer first, so a template error becomes a
// clean 500 instead of half a page.
func (s *server) render(w http.ResponseWriter, r *http.Request, status int, page string, v view) {
	var buf bytes.Buffer
	v.Sets = s.sets != nil
	t, ok := s.pages.byName[page]
	if !ok {
		s.serverError(w, r, fmt.Errorf("catalog: no page template %q", page))
		return
	}
	if err := t.ExecuteTemplate(&buf, "base.html", v); err != nil {
		if page == "error" {
			// The error page itself failed: answer without a template.
			s.logger.Error("catalog: render error page", "path", r.URL.Path, "err", err)
			http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
			return
		}
		s.serverError(w, r, fmt.Errorf("render %s: %w", page, err))
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// errorView is the data of the 404 and 500 pages.
type errorView struct {
	Status  int
	Heading string
	Message string
	Links   []link // where to go instead
}

// link is one hyperlink a page offers.
type link struct {
	Text string
	URL  string
}

// notFound answers 404 with the styled page, saying what was not found and
// linking home (and to any better place in links).
func (s *server) notFound(w http.ResponseWriter, r *http.Request, heading, message string, links ...link) {
	links = append(links, link{Text: "All capabilities", URL: "/"})
	s.render(w, r, http.StatusNotFound, "error", view{Title: "Not found", Data: errorView{
		Status: http.StatusNotFound, Heading: heading, Message: message, Links: links,
	}})
}

// handleNotFound answers every catalog path no other route claims.
func (s *server) handleNotFound(w http.ResponseWriter, r *http.Request) {
	s.notFound(w, r, "Page not found", fmt.Sprintf("Nothing lives at %s in the catalog.", r.URL.Path))
}

// serverError logs err and answers 500 without any of its details: the
// person reading the page needs to know it is not their fault, not how the
// database is laid out.
func (s *server) serverError(w http.ResponseWriter, r *http.Request, err error) {
	s.logger.Error("catalog: page failed", "path", r.URL.Path, "err", err)
	s.render(w, r, http.StatusInternalServerError, "error", view{Title: "Server error", Data: errorView{
		Status:  http.StatusInternalServerError,
		Heading: "Something went wrong",
		Message: "The catalog could not load this page. The error has been logged; try again in a moment.",
		Links:   []link{{Text: "All capabilities", URL: "/"}},
	}})
}

// formatWhen is the compact time of a conformance result, as in the
// conformance table of the CLI: month-day hour:minute, server local time.
func formatWhen(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.Local().Format("01-02 15:04")
}

// formatFull is a time with its date, year and zone, for tooltips and
// summaries.
func formatFull(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.Local().Format("2006-01-02 15:04:05 MST")
}

// formatISO is the machine-readable form for <time datetime>.
func formatISO(t time.Time) string { return t.UTC().Format(time.RFC3339) }
