package main

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/capd-dev/capd/capabilities"
	"github.com/capd-dev/capd/conformance"
	"github.com/capd-dev/capd/internal/registry"
	"github.com/capd-dev/capd/schemas"
)

// Helpers for the tests that drive every capability through the HTTP tool
// API (isolation, mass assignment): calls, valid inputs taken from the
// conformance cases, and a raw read of a tenant's whole database.

// tapiResponse is one answer of the tool API.
type tapiResponse struct {
	Status int
	Body   []byte
	JSON   map[string]any
	Header http.Header
}

// errorCode is the capability's own code of an error answer ("" on success).
func (r tapiResponse) errorCode() string {
	s, _ := r.JSON["error"].(string)
	return s
}

// issuePaths lists the JSON pointers of the rejection's issues, sorted.
func (r tapiResponse) issuePaths() []string {
	result, _ := r.JSON["result"].(map[string]any)
	issues, _ := result["issues"].([]any)
	var out []string
	for _, is := range issues {
		if m, ok := is.(map[string]any); ok {
			p, _ := m["path"].(string)
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}

// errorLocs lists the envelope's errors[].loc joined with dots, sorted.
func (r tapiResponse) errorLocs() []string {
	errs, _ := r.JSON["errors"].([]any)
	var out []string
	for _, e := range errs {
		m, _ := e.(map[string]any)
		loc, _ := m["loc"].([]any)
		parts := make([]string, len(loc))
		for i, p := range loc {
			parts[i], _ = p.(string)
		}
		out = append(out, strings.Join(parts, "."))
	}
	sort.Strings(out)
	return out
}

// tapiCall posts args to /api/v1/tools/{ref} of the server at base with key.
func tapiCall(t *testing.T, base, key, ref string, args any) tapiResponse {
	t.Helper()
	return tapiCallWith(t, base, key, ref, args, nil)
}

// tapiCallWith is tapiCall with extra request headers.
func tapiCallWith(t *testing.T, base, key, ref string, args any, headers map[string]string) tapiResponse {
	t.Helper()
	body, err := json.Marshal(args)
	require.NoError(t, err)
	req, err := http.NewRequest(http.MethodPost, base+"/api/v1/tools/"+ref, bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+key)
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	out := tapiResponse{Status: res.StatusCode, Body: raw, Header: res.Header}
	require.NoError(t, json.Unmarshal(raw, &out.JSON), "%s: answer is not a JSON object: %s", ref, raw)
	return out
}

// tapiOK is tapiCall for a call that must succeed.
func tapiOK(t *testing.T, base, key, ref string, args any) map[string]any {
	t.Helper()
	r := tapiCall(t, base, key, ref, args)
	require.Equal(t, http.StatusOK, r.Status, "%s %v: %s", ref, args, r.Body)
	return r.JSON
}

// contractSuite is the registry capd serves and the conformance cases of
// every version, whose first happy case gives a valid input.
type contractSuite struct {
	reg    *registry.Registry
	suite  *conformance.Suite
	unique atomic.Int64
}

func newContractSuite(t *testing.T) *contractSuite {
	t.Helper()
	reg, err := loadRegistry()
	require.NoError(t, err)
	suite, err := conformance.Load(capabilities.FS, schemas.FS, reg)
	require.NoError(t, err)
	return &contractSuite{reg: reg, suite: suite}
}

// happyCase returns the first written happy case of v, or nil.
func (s *contractSuite) happyCase(v *registry.Version) *conformance.Case {
	for _, c := range s.suite.Cases(v) {
		if c.Kind == conformance.KindHappy {
			return c
		}
	}
	return nil
}

// validInput sets up v's first happy case through the tool API with key
// (its given steps, with {{run.unique}} = marker plus a counter) and
// returns the case's input with every template filled in. ok is false when
// v has no happy case to take an input from.
func (s *contractSuite) validInput(t *testing.T, base, key, marker string, v *registry.Version) (in map[string]any, ok bool) {
	t.Helper()
	c := s.happyCase(v)
	if c == nil {
		return nil, false
	}
	b := map[string]any{"run": map[string]any{"unique": fmt.Sprintf("%s%d", marker, s.unique.Add(1))}}
	for i, st := range c.Given {
		stepIn, err := conformance.ExpandTemplates(st.Input, b)
		require.NoError(t, err, "%s given %d", c.Ref(), i+1)
		out := tapiOK(t, base, key, st.Call, stepIn)
		if st.As != "" {
			b[st.As] = out
		}
	}
	x, err := conformance.ExpandTemplates(c.Input, b)
	require.NoError(t, err, "%s input", c.Ref())
	in, isMap := x.(map[string]any)
	require.True(t, isMap, "%s: the happy input is not an object", c.Ref())
	return in, true
}

// inputProperties lists the top-level input properties of v, sorted.
func inputProperties(v *registry.Version) []string {
	doc, _ := v.Input.Doc().(map[string]any)
	props, _ := doc["properties"].(map[string]any)
	names := make([]string, 0, len(props))
	for n := range props {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func cloneInput(in map[string]any) map[string]any {
	out := make(map[string]any, len(in)+1)
	for k, v := range in {
		out[k] = v
	}
	return out
}

// dumpTenant reads every row of every table of tenant's database in data
// through a read-only connection of its own, as sorted text lines: equal
// dumps mean nothing was written.
func dumpTenant(t *testing.T, data, tenant string) []string {
	t.Helper()
	path := filepath.Join(data, "tenants", tenant+".db")
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=busy_timeout(5000)")
	require.NoError(t, err)
	defer db.Close()
	rows, err := db.Query(`SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`)
	require.NoError(t, err)
	var tables []string
	for rows.Next() {
		var n string
		require.NoError(t, rows.Scan(&n))
		tables = append(tables, n)
	}
	require.NoError(t, rows.Err())
	require.NoError(t, rows.Close())
	require.NotEmpty(t, tables, "no tables in %s", path)
	var lines []string
	for _, table := range tables {
		rs, err := db.Query(`SELECT * FROM "` + strings.ReplaceAll(table, `"`, `""`) + `"`)
		require.NoError(t, err)
		cols, err := rs.Columns()
		require.NoError(t, err)
		for rs.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			require.NoError(t, rs.Scan(ptrs...))
			var line strings.Builder
			line.WriteString(table)
			for i, c := range cols {
				if b, ok := vals[i].([]byte); ok {
					vals[i] = fmt.Sprintf("x'%x'", b)
				}
				fmt.Fprintf(&line, " %s=%v", c, vals[i])
			}
			lines = append(lines, line.String())
		}
		require.NoError(t, rs.Err())
		require.NoError(t, rs.Close())
	}
	sort.Strings(lines)
	return lines
}
