package catalog

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"path"
	"regexp"
)

// jsonSpan is a piece of pretty-printed JSON; a piece with a URL is a
// shared-schema reference the page links to /schemas/<file>.
type jsonSpan struct {
	Text string
	URL  string
}

// sharedRefPattern finds "$ref": "capd:schemas/<file>[#fragment]" in
// indented JSON. Group 1 is the reference, group 2 the file.
var sharedRefPattern = regexp.MustCompile(`"\$ref": "(capd:schemas/([A-Za-z0-9_.-]+\.json)(?:#[^"]*)?)"`)

// prettyJSON indents raw with two spaces, keeping its key order, and links
// every $ref to a shared schema file that exists. Empty raw gives no spans.
func (s *server) prettyJSON(raw []byte) ([]jsonSpan, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, nil
	}
	var buf bytes.Buffer
	if err := json.Indent(&buf, raw, "", "  "); err != nil {
		return nil, err
	}
	text := buf.String()
	var out []jsonSpan
	last := 0
	for _, m := range sharedRefPattern.FindAllStringSubmatchIndex(text, -1) {
		file := text[m[4]:m[5]]
		if !s.hasSchema(file) {
			continue
		}
		out = append(out, jsonSpan{Text: text[last:m[2]]}, jsonSpan{Text: text[m[2]:m[3]], URL: "/schemas/" + file})
		last = m[3]
	}
	return append(out, jsonSpan{Text: text[last:]}), nil
}

// hasSchema reports whether file is one of the shared schema files.
func (s *server) hasSchema(file string) bool {
	if !fs.ValidPath(file) || file != path.Base(file) {
		return false
	}
	info, err := fs.Stat(s.schemas, file)
	return err == nil && !info.IsDir()
}
