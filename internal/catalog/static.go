package catalog

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"time"
)

// staticFile is one CSS, JS or image file, held in memory with the hash of
// its content.
type staticFile struct {
	data        []byte
	hash        string // first 12 hex digits of its SHA-256
	contentType string
}

// staticFiles are the files under assets/static, by file name. Pages link
// them as /static/<file>?v=<hash>, so a changed file gets a new URL and the
// old one can be cached for a year.
type staticFiles struct {
	files map[string]staticFile
}

func loadStatic(assets fs.FS) (*staticFiles, error) {
	entries, err := fs.ReadDir(assets, "static")
	if err != nil {
		return nil, fmt.Errorf("catalog: read static files: %w", err)
	}
	sf := &staticFiles{files: map[string]staticFile{}}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		data, err := fs.ReadFile(assets, path.Join("static", e.Name()))
		if err != nil {
			return nil, fmt.Errorf("catalog: read static file: %w", err)
		}
		sum := sha256.Sum256(data)
		ct := mime.TypeByExtension(path.Ext(e.Name()))
		if ct == "" {
			ct = http.DetectContentType(data)
		}
		sf.files[e.Name()] = staticFile{data: data, hash: hex.EncodeToString(sum[:])[:12], contentType: ct}
	}
	return sf, nil
}

// url returns the versioned URL of a static file, for templates. An unknown
// name is an error so a typo in a template fails at start-up.
func (sf *staticFiles) url(name string) (string, error) {
	f, ok := sf.files[name]
	if !ok {
		return "", fmt.Errorf("catalog: no static file %q", name)
	}
	return "/static/" + name + "?v=" + f.hash, nil
}

// serve writes f. A request carrying the current hash is cached for a
// year; any other (an old or missing hash) must revalidate, so a stale page
// never pins an old stylesheet.
func (f staticFile) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Query().Get("v") == f.hash {
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		w.Header().Set("Cache-Control", "no-cache")
	}
	w.Header().Set("Content-Type", f.contentType)
	w.Header().Set("ETag", `"`+f.hash+`"`)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(f.data))
}

// handleStatic answers GET /static/{file}.
func (s *server) handleStatic(w http.ResponseWriter, r *http.Request) {
	f, ok := s.static.files[r.PathValue("file")]
	if !ok {
		s.notFound(w, r, "No such file", fmt.Sprintf("There is no static file %q.", r.PathValue("file")))
		return
	}
	f.serve(w, r)
}
