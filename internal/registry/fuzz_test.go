package registry_test

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/require"

	"github.com/capd-dev/capd/capabilities"
	"github.com/capd-dev/capd/internal/registry"
	"github.com/capd-dev/capd/schemas"
)

var (
	fuzzNameRE    = regexp.MustCompile(`(?m)^name:[ \t]*['"]?([^\s'"#]+)`)
	fuzzVersionRE = regexp.MustCompile(`(?m)^version:[ \t]*['"]?([^\s'"#]+)`)
)

// fuzzManifestPath is where Load would look for the manifest data claims
// to be (<name>/<version>.yaml, from its top-level name and version lines),
// so a well-formed manifest can load; anything else goes to a fixed path.
func fuzzManifestPath(data []byte) string {
	const fallback = "fuzz.thing/0.1.0.yaml"
	n, v := fuzzNameRE.FindSubmatch(data), fuzzVersionRE.FindSubmatch(data)
	if n == nil || v == nil {
		return fallback
	}
	p := string(n[1]) + "/" + string(v[1]) + ".yaml"
	if !fs.ValidPath(p) || strings.Count(p, "/") != 1 || strings.HasSuffix(p, registry.CasesSuffix) || strings.HasPrefix(p, "sets/") {
		return fallback
	}
	return p
}

// FuzzLoadManifest loads arbitrary bytes as the only manifest beside the
// real shared schemas. Load must not panic, and must answer either a
// registry holding that one version, or Problems that each name a file.
func FuzzLoadManifest(f *testing.F) {
	seeds := [][]byte{[]byte(minimalManifest)}
	manifests, err := fs.Glob(capabilities.FS, "*/*.yaml")
	if err != nil {
		f.Fatal(err)
	}
	for _, m := range manifests {
		if strings.HasSuffix(m, registry.CasesSuffix) || strings.HasPrefix(m, "sets/") {
			continue
		}
		b, err := fs.ReadFile(capabilities.FS, m)
		if err != nil {
			f.Fatal(err)
		}
		seeds = append(seeds, b)
	}
	if len(seeds) < 10 {
		f.Fatalf("only %d real manifests to seed with", len(seeds)-1)
	}
	base := minimalManifest
	broken := []string{
		"",
		"null",
		"[]",
		"- a\n- b\n",
		"name: [unterminated\n",
		"\tname: tabs are not indentation\n",
		base[:len(base)/2], // truncated mid-document
		strings.Replace(base, "version: 0.1.0", "version: 1", 1),
		strings.Replace(base, "version: 0.1.0", "version: 0.1.0-beta.1", 1),
		strings.Replace(base, "name: test.thing", "name: 'bad name!'", 1),
		strings.Replace(base, "scope: projects.read", "scope: [projects.read]", 1),
		strings.Replace(base, "status: stable", "status: deprecated\nreplacement: test.thing@9.9.9", 1),
		strings.Replace(base, "enum: [invalid_input]", "enum: [invalid_input, unknown_thing]", 1),
		strings.Replace(base, "minLength: 1", "minLength: -1", 1),
		strings.Replace(base, "type: string\n      minLength: 1", "$ref: 'capd:schemas/nope.json'", 1),
		strings.Replace(base, "type: string\n      minLength: 1", "$ref: 'capd:schemas/id.json'", 1),
		strings.Replace(base, "type: string\n      minLength: 1", "$ref: '#/$defs/loop'", 1),
		strings.Replace(base, "id: t1", "id: 7", 1),
		strings.Replace(base, "summary: Does a thing.", "summary: !!binary aGVsbG8=", 1),
		strings.Replace(base, "summary: Does a thing.", "summary: 2024-01-01T00:00:00Z", 1),
		strings.Replace(base, "summary: Does a thing.", "summary: &a [*a]", 1),
		strings.Replace(base, "summary: Does a thing.", "summary: {? [1]: 2}", 1),
		strings.Replace(base, "  read_only: true", "  read_only: 1e999", 1),
		"a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n",
		base + "---\nname: second.document\n",
		"name: test.thing\nversion: 0.1.0\n" + strings.Repeat("[", 5000),
		"\xff\xfe\x00n\x00a\x00m\x00e\x00",
	}
	for _, b := range broken {
		seeds = append(seeds, []byte(b))
	}
	for _, s := range seeds {
		f.Add(s)
	}

	f.Fuzz(func(t *testing.T, data []byte) {
		file := fuzzManifestPath(data)
		fsys := fstest.MapFS{file: &fstest.MapFile{Data: data}}
		reg, err := registry.Load(fsys, schemas.FS)
		if err == nil {
			if reg == nil || len(reg.Versions()) != 1 {
				t.Fatalf("Load succeeded without exactly one version")
			}
			v := reg.Versions()[0]
			if v.Manifest.Name+"/"+v.Manifest.Version+".yaml" != file {
				t.Fatalf("loaded %s from %s", v.Manifest.Ref(), file)
			}
			if v.Input == nil || v.Output == nil || len(v.InputJSON) == 0 || len(v.OutputJSON) == 0 {
				t.Fatalf("%s loaded without compiled schemas", v.Manifest.Ref())
			}
			return
		}
		if reg != nil {
			t.Fatalf("Load returned a registry and an error: %v", err)
		}
		var ps registry.Problems
		if !errors.As(err, &ps) {
			t.Fatalf("Load failed with %T, not Problems: %v", err, err)
		}
		if len(ps) == 0 {
			t.Fatalf("Load failed with no problems")
		}
		for _, p := range ps {
			if p.File == "" || p.Message == "" {
				t.Fatalf("problem without a file or message: %+v", p)
			}
			if p.File != "capabilities" && path.Clean(p.File) != p.File {
				t.Fatalf("problem names an unclean file: %q", p.File)
			}
		}
	})
}

// TestYAMLToJSONAliases: manifests, case files and capability-set files
// (capd sets ... --file) all go through YAMLToJSON, which must refuse an
// alias that repeats its own anchor (else a stack overflow) and a document
// whose aliases expand beyond the bound (else gigabytes from a few hundred
// bytes), quickly and with the line; ordinary aliases still work.
func TestYAMLToJSONAliases(t *testing.T) {
	for _, doc := range []string{"summary: &a [*a]\n", "a: &a {b: {c: *a}}\n", "a: &a\n  - x\n  - *a\n"} {
		_, err := registry.YAMLToJSON([]byte(doc))
		require.ErrorContains(t, err, "refers to a value that contains it", doc)
	}
	// Refused part way: bounded by what it allocates, not by the clock.
	// Writing 9^9 nodes would allocate tens of GB; stopping at
	// MaxYAMLExpansion allocates about 220 MB here (a json.Marshal per
	// scalar), so 1 GiB tells the two apart on any machine.
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := registry.YAMLToJSON([]byte(aliasBomb(9))) // 9^9 nodes
	runtime.ReadMemStats(&after)
	require.ErrorContains(t, err, "expands to more than")
	t.Logf("refusing the alias bomb allocated %d KiB", (after.TotalAlloc-before.TotalAlloc)>>10)
	require.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(1<<30))

	out, err := registry.YAMLToJSON([]byte(aliasBomb(3)))
	require.NoError(t, err)
	require.Equal(t, 9+9*9+9*9*9, strings.Count(string(out), `"x"`))
	out, err = registry.YAMLToJSON([]byte("a: &a {k: 1}\nb: *a\nc: [*a, *a]\n"))
	require.NoError(t, err)
	require.JSONEq(t, `{"a":{"k":1},"b":{"k":1},"c":[{"k":1},{"k":1}]}`, string(out))

	_, err = registry.YAMLToJSON([]byte(strings.Repeat("[", 300) + strings.Repeat("]", 300)))
	require.ErrorContains(t, err, "levels deep")

	// Through Load, an alias cycle is a problem of the file, not a crash.
	_, err = registry.Load(fstest.MapFS{"test.thing/0.1.0.yaml": &fstest.MapFile{Data: []byte(strings.Replace(minimalManifest, "summary: Does a thing.", "summary: &a [*a]", 1))}}, schemas.FS)
	var ps registry.Problems
	require.ErrorAs(t, err, &ps)
	require.Contains(t, ps.Error(), "test.thing/0.1.0.yaml")
}

// aliasBomb is a document of levels nested aliases, each repeating the one
// before nine times: 9^levels nodes.
func aliasBomb(levels int) string {
	var b strings.Builder
	b.WriteString("l0: &l0 [x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i < levels; i++ {
		p := fmt.Sprintf("*l%d", i-1)
		fmt.Fprintf(&b, "l%d: &l%d [%s]\n", i, i, strings.TrimSuffix(strings.Repeat(p+", ", 9), ", "))
	}
	return b.String()
}
