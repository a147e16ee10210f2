package catalog

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"strings"
)

// schemaView is the data of one shared schema's page.
type schemaView struct {
	File        string
	ID          string
	Title       string
	Description string
	JSON        []jsonSpan
	UsedBy      []link // capability versions whose published schemas $ref it
	Others      []link // the other shared schema files
}

// schemaIndexView lists every shared schema file.
type schemaIndexView struct {
	Schemas []schemaEntry
}

// schemaEntry is one file in the schema list.
type schemaEntry struct {
	File        string
	URL         string
	Title       string
	Description string
}

// schemaFiles lists the shared schema files, sorted.
func (s *server) schemaFiles() ([]string, error) {
	return fs.Glob(s.schemas, "*.json")
}

// schemaURL is the page of one shared schema file.
func schemaURL(file string) string { return "/schemas/" + url.PathEscape(file) }

// schemaHeader is the descriptive part of a schema file.
type schemaHeader struct {
	ID          string `json:"$id"`
	Title       string `json:"title"`
	Description string `json:"description"`
}

func (s *server) handleSchemaIndex(w http.ResponseWriter, r *http.Request) {
	files, err := s.schemaFiles()
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	var data schemaIndexView
	for _, f := range files {
		raw, err := fs.ReadFile(s.schemas, f)
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		var h schemaHeader
		_ = json.Unmarshal(raw, &h) // a file without a header still gets listed
		data.Schemas = append(data.Schemas, schemaEntry{File: f, URL: schemaURL(f), Title: h.Title, Description: h.Description})
	}
	s.render(w, r, http.StatusOK, "schemas", view{Title: "Shared schemas", Section: "schemas", Data: data})
}

func (s *server) handleSchema(w http.ResponseWriter, r *http.Request) {
	file := r.PathValue("file")
	if !strings.HasSuffix(file, ".json") || !s.hasSchema(file) {
		s.notFound(w, r, "No such schema", fmt.Sprintf("There is no shared schema file %q.", file),
			link{Text: "Shared schemas", URL: "/schemas"})
		return
	}
	raw, err := fs.ReadFile(s.schemas, file)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	var h schemaHeader
	if err := json.Unmarshal(raw, &h); err != nil {
		s.serverError(w, r, fmt.Errorf("schema %s: %w", file, err))
		return
	}
	data := schemaView{File: file, ID: h.ID, Title: h.Title, Description: h.Description}
	if data.JSON, err = s.prettyJSON(raw); err != nil {
		s.serverError(w, r, fmt.Errorf("schema %s: %w", file, err))
		return
	}
	ref := []byte(`"capd:schemas/` + file)
	for _, v := range s.reg.Versions() {
		if bytes.Contains(v.Manifest.Input, ref) || bytes.Contains(v.Manifest.Output, ref) {
			data.UsedBy = append(data.UsedBy, link{Text: v.Manifest.Ref(), URL: capabilityURL(v.Manifest.Name, v.Manifest.Version)})
		}
	}
	files, err := s.schemaFiles()
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	for _, f := range files {
		if f != file {
			data.Others = append(data.Others, link{Text: f, URL: schemaURL(f)})
		}
	}
	s.render(w, r, http.StatusOK, "schema", view{Title: file, Section: "schemas", Data: data})
}
