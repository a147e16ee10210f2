package conformance_test

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/capd-dev/capd/capabilities"
	"github.com/capd-dev/capd/conformance"
	"github.com/capd-dev/capd/internal/capability"
	"github.com/capd-dev/capd/internal/providers/projectkit"
	"github.com/capd-dev/capd/internal/registry"
	"github.com/capd-dev/capd/internal/schema"
	"github.com/capd-dev/capd/internal/store/sqlite"
	"github.com/capd-dev/capd/schemas"
)

// unknownTaskID is a task id no tenant holds.
const unknownTaskID = "tsk_00000000000000000000000000000000"

// scripted is a target whose answers a test writes, recording every call.
// A name without a script answers like an empty list, which is what the
// state probes need.
type scripted struct {
	mu      sync.Mutex
	answers map[string]func(args map[string]any) *conformance.Response
	calls   []scriptedCall
}

type scriptedCall struct {
	Ref  string
	Args map[string]any
}

var _ conformance.Target = (*scripted)(nil)

func (s *scripted) Instance(*registry.Version) string { return "scripted" }

func (s *scripted) Call(_ context.Context, ref string, raw json.RawMessage) (*conformance.Response, error) {
	var args map[string]any
	if err := json.Unmarshal(raw, &args); err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.calls = append(s.calls, scriptedCall{Ref: ref, Args: args})
	s.mu.Unlock()
	name, _, _ := strings.Cut(ref, "@")
	if answer, ok := s.answers[name]; ok {
		return answer(args), nil
	}
	return okAnswer(map[string]any{"items": []any{}, "next_cursor": nil}), nil
}

func (s *scripted) Close() error { return nil }

// callsOf returns the arguments of every call of name, pinned or not.
func (s *scripted) callsOf(name string) []map[string]any {
	var out []map[string]any
	for _, c := range s.calls {
		if n, _, _ := strings.Cut(c.Ref, "@"); n == name {
			out = append(out, c.Args)
		}
	}
	return out
}

// okAnswer is a success carrying fields besides ok.
func okAnswer(fields map[string]any) *conformance.Response {
	out := maps.Clone(fields)
	out["ok"] = true
	return response(false, out)
}

func response(isError bool, out map[string]any) *conformance.Response {
	raw, err := json.Marshal(out)
	if err != nil {
		panic(err)
	}
	var decoded map[string]any
	if err := json.Unmarshal(raw, &decoded); err != nil {
		panic(err)
	}
	return &conformance.Response{IsError: isError, Output: decoded, Text: string(raw)}
}

func fixed(r *conformance.Response) func(map[string]any) *conformance.Response {
	return func(map[string]any) *conformance.Response { return r }
}

// runOne runs c against target and returns its result.
func runOne(t *testing.T, suite *conformance.Suite, target conformance.Target, c *conformance.Case) capability.ConformanceResult {
	t.Helper()
	results := (&conformance.Runner{Suite: suite}).Run(context.Background(), conformance.NewRunID(time.Now()), target, []*conformance.Case{c})
	require.Len(t, results, 1)
	return results[0]
}

func version(t *testing.T, suite *conformance.Suite, name string) *registry.Version {
	t.Helper()
	v := suite.Registry.Latest(name)
	require.NotNil(t, v, name)
	return v
}

func TestTemplates(t *testing.T) {
	suite := loadSuite(t)
	// A given step binds g; list_staff is the call under test because its
	// success is small: {ok, items, next_cursor}.
	// Set-up answers are checked against their contract, so this one is a
	// valid get_project output (plus an extra field, which outputs allow).
	project := okAnswer(map[string]any{
		"project": map[string]any{"project_id": "prj_1", "name": "Alpha", "description": "",
			"created_at": "2026-05-18T19:53:00Z", "updated_at": "2026-05-18T19:53:00Z"},
		"task_counts": map[string]any{"todo": 2, "doing": 0, "waiting": 0, "review": 0, "done": 0, "cancelled": 0},
		"tags":        []any{"a", "b"},
	})
	newTarget := func() *scripted {
		return &scripted{answers: map[string]func(map[string]any) *conformance.Response{
			"projects.get_project": fixed(project),
			"projects.list_staff":  fixed(okAnswer(map[string]any{"items": []any{}, "next_cursor": "cur_1"})),
		}}
	}
	newCase := func(input map[string]any) *conformance.Case {
		return &conformance.Case{
			ID: "templates", Kind: conformance.KindHappy, Version: version(t, suite, "projects.list_staff"),
			Given:  []conformance.Step{{As: "g", Call: "projects.get_project", Input: map[string]any{"project_id": "prj_1"}}},
			Input:  input,
			Expect: conformance.Expect{OK: true},
		}
	}

	t.Run("OK", func(t *testing.T) {
		target := newTarget()
		c := newCase(map[string]any{
			"string":        "{{g.project.project_id}}",
			"number":        "{{g.task_counts.todo}}",
			"object":        "{{g.task_counts}}",
			"inside":        "id={{g.project.project_id}}",
			"number_inside": "n={{g.task_counts.todo}}",
			"object_inside": "c={{g.task_counts}}",
			"two":           "{{g.project.name}}/{{g.project.project_id}}",
			"nested":        map[string]any{"list": []any{"{{g.task_counts.done}}", "{{run.unique}}"}},
			"index":         "{{g.tags.1}}",
			"plain":         "no template",
			"literal":       7,
		})
		c.Expect.Then = []conformance.Check{{
			Call:   "projects.list_staff",
			Input:  map[string]any{"cursor": "{{result.next_cursor}}"},
			Fields: map[string]any{"next_cursor": "{{result.next_cursor}}"},
		}}
		r := runOne(t, suite, target, c)
		require.Equal(t, capability.OutcomePass, r.Outcome, r.Message)

		calls := target.callsOf("projects.list_staff")
		require.Len(t, calls, 2, "the call under test, then the read-back")
		got := calls[0]
		// A string that is one template becomes the value, of its own type.
		assert.Equal(t, "prj_1", got["string"])
		assert.Equal(t, float64(2), got["number"])
		assert.Equal(t, map[string]any{"todo": float64(2), "doing": float64(0), "waiting": float64(0), "review": float64(0), "done": float64(0), "cancelled": float64(0)}, got["object"])
		// A template inside a longer string becomes the value's text.
		assert.Equal(t, "id=prj_1", got["inside"])
		assert.Equal(t, "n=2", got["number_inside"])
		assert.JSONEq(t, `{"todo":2,"doing":0,"waiting":0,"review":0,"done":0,"cancelled":0}`, strings.TrimPrefix(got["object_inside"].(string), "c="))
		assert.Equal(t, "Alpha/prj_1", got["two"])
		nested := got["nested"].(map[string]any)["list"].([]any)
		assert.Equal(t, float64(0), nested[0])
		assert.Regexp(t, `^[a-z0-9]+$`, nested[1], "run.unique is a plain lowercase word")
		assert.Equal(t, "b", got["index"])
		assert.Equal(t, "no template", got["plain"])
		assert.Equal(t, float64(7), got["literal"])
		// Inside then, result is the case's own output.
		assert.Equal(t, "cur_1", calls[1]["cursor"])
	})

	t.Run("ErrMissingBinding", func(t *testing.T) {
		for name, input := range map[string]map[string]any{
			"UnboundName":        {"x": "{{nobody.id}}"},
			"UnboundInside":      {"x": "id={{nobody.id}}"},
			"MissingPath":        {"x": "{{g.project.missing}}"},
			"IndexOutOfRange":    {"x": "{{g.tags.2}}"},
			"ResultOutsideThen":  {"x": "{{result.next_cursor}}"},
			"NestedUnboundValue": {"x": map[string]any{"y": []any{"{{nobody}}"}}},
		} {
			t.Run(name, func(t *testing.T) {
				target := newTarget()
				r := runOne(t, suite, target, newCase(input))
				assert.Equal(t, capability.OutcomeError, r.Outcome, "a case whose input cannot be built could not be set up: %s", r.Message)
				assert.Contains(t, r.Message, "template {{")
				assert.Empty(t, target.callsOf("projects.list_staff"), "the call under test is never made")
			})
		}
	})

	t.Run("ErrMissingBindingInGiven", func(t *testing.T) {
		target := newTarget()
		c := newCase(map[string]any{})
		c.Given = append(c.Given, conformance.Step{Call: "projects.get_project", Input: map[string]any{"project_id": "{{later.id}}"}})
		r := runOne(t, suite, target, c)
		assert.Equal(t, capability.OutcomeError, r.Outcome, r.Message)
		assert.Contains(t, r.Message, "given step 2 (projects.get_project)")
		assert.Contains(t, r.Message, `nothing is bound to "later"`)
	})
}

func TestGenerate(t *testing.T) {
	suite := loadSuite(t)
	v := version(t, suite, "projects.list_tasks")
	cases := suite.Cases(v)
	byID := map[string]*conformance.Case{}
	var base *conformance.Case
	for _, c := range cases {
		byID[c.ID] = c
		if base == nil && c.Kind == conformance.KindHappy {
			base = c
		}
	}
	require.NotNil(t, base)
	require.Equal(t, "happy_path", base.ID, "generated cases start from the first written happy case")

	t.Run("OK", func(t *testing.T) {
		for _, tt := range []struct {
			id    string
			field string
			value any
		}{
			{"gen.minimum.limit", "limit", float64(0)},
			{"gen.maximum.limit", "limit", float64(101)},
			{"gen.format.due_before", "due_before", "2026-02-30"},
			{"gen.format.due_after", "due_after", "2026-02-30"},
			{"gen.wrong_type.limit", "limit", "x"},
			{"gen.max_length.query", "query", strings.Repeat("x", 201)},
			{"gen.min_length.project_id", "project_id", ""},
		} {
			t.Run(tt.id, func(t *testing.T) {
				c := byID[tt.id]
				require.NotNil(t, c, "list_tasks has %s", tt.id)
				want := jsonValue(t, base.Input).(map[string]any)
				want[tt.field] = tt.value
				assert.Equal(t, want, jsonValue(t, c.Input), "the happy input with one field broken")
				assertGenerated(t, c, base, tt.field)
			})
		}
	})

	t.Run("EnumStatus", func(t *testing.T) {
		c := byID["gen.enum.status"]
		require.NotNil(t, c)
		status, ok := jsonValue(t, c.Input).(map[string]any)["status"].(string)
		require.True(t, ok, "an enum is broken with a string of the right type")
		assert.NotContains(t, []string{"todo", "doing", "waiting", "review", "done", "cancelled"}, status)
		assertGenerated(t, c, base, "status")
		assert.Equal(t, []string{"enum"}, inputKeywords(t, c), "only the enum is broken")
	})

	t.Run("MissingRequired", func(t *testing.T) {
		var c *conformance.Case
		for _, x := range suite.Select(conformance.Filter{Capability: "projects.transition_task", Case: "gen.missing_required.task_id"}) {
			c = x
		}
		require.NotNil(t, c)
		assert.NotContains(t, jsonValue(t, c.Input), "task_id")
		assert.Equal(t, []string{"required"}, inputKeywords(t, c))
	})

	t.Run("Order", func(t *testing.T) {
		var written, generated []string
		for _, c := range cases {
			if c.Kind == conformance.KindGenerated {
				generated = append(generated, c.ID)
				continue
			}
			require.Empty(t, generated, "written cases come before generated ones (%s)", c.ID)
			written = append(written, c.ID)
		}
		assert.True(t, slices.IsSorted(generated), "generated cases are sorted by id")
		assert.NotEmpty(t, written)
	})

	t.Run("NoHappyCase", func(t *testing.T) {
		var rejections []*conformance.Case
		for _, c := range cases {
			if c.Kind == conformance.KindRejection {
				rejections = append(rejections, c)
			}
		}
		assert.Empty(t, conformance.Generate(v, rejections), "nothing to start from")
	})

	// Every generated input breaks the field its id names and no other.
	t.Run("BreaksOnlyItsField", func(t *testing.T) {
		for _, c := range suite.Select(conformance.Filter{Kind: conformance.KindGenerated}) {
			field := generatedField(c)
			issues := inputIssues(t, c)
			require.NotEmpty(t, issues, "%s %s breaks the input schema", c.Ref(), c.ID)
			for _, is := range issues {
				assert.Equal(t, "/"+field, is.Path, "%s %s breaks only %s", c.Ref(), c.ID, field)
			}
		}
	})

	// A pattern case must break the pattern alone: an input that also
	// breaks minLength passes against a provider that ignores the pattern.
	// Today the first candidate, "", is taken even where minLength is 1,
	// so create_project's gen.pattern.name is a copy of gen.min_length.name
	// and never tests the pattern \S.
	t.Run("PatternBreaksOnlyThePattern", func(t *testing.T) {
		var pattern []*conformance.Case
		for _, c := range suite.Select(conformance.Filter{Kind: conformance.KindGenerated}) {
			if strings.HasPrefix(c.ID, "gen.pattern.") {
				pattern = append(pattern, c)
			}
		}
		require.NotEmpty(t, pattern, "some input has a pattern")
		isolated := true
		for _, c := range pattern {
			if kw := inputKeywords(t, c); !slices.Equal(kw, []string{"pattern"}) {
				isolated = false
				t.Logf("%s %s breaks %v with %v", c.Ref(), c.ID, kw, jsonValue(t, c.Input))
			}
		}
		assert.True(t, isolated, "gen.pattern.* breaks the pattern alone, within the length bounds")
	})
}

// assertGenerated checks what every generated case shares with its base.
func assertGenerated(t *testing.T, c, base *conformance.Case, field string) {
	t.Helper()
	assert.Equal(t, conformance.KindGenerated, c.Kind)
	assert.Equal(t, capability.CodeInvalidInput, c.Expect.Error)
	assert.Equal(t, []string{"/" + field}, c.Expect.Issues)
	assert.False(t, c.Expect.OK)
	assert.Empty(t, c.Expect.Then)
	assert.Equal(t, base.Given, c.Given, "the same setup as the happy case")
	assert.Same(t, base.Version, c.Version)
}

// generatedField is the property a generated case breaks, from its id.
func generatedField(c *conformance.Case) string {
	if c.ID == "gen.unknown_property" {
		return "x_unknown_property"
	}
	return c.ID[strings.LastIndexByte(c.ID, '.')+1:]
}

func inputIssues(t *testing.T, c *conformance.Case) []capability.Issue {
	t.Helper()
	raw, err := json.Marshal(c.Input)
	require.NoError(t, err)
	v, err := schema.Decode(raw, schema.MaxDepth)
	require.NoError(t, err)
	return c.Version.Input.Validate(v)
}

// inputKeywords lists the schema keywords c's input breaks, sorted.
func inputKeywords(t *testing.T, c *conformance.Case) []string {
	var kws []string
	for _, is := range inputIssues(t, c) {
		kws = append(kws, is.Keyword)
	}
	slices.Sort(kws)
	return slices.Compact(kws)
}

func jsonValue(t *testing.T, v any) any {
	t.Helper()
	raw, err := json.Marshal(v)
	require.NoError(t, err)
	var out any
	require.NoError(t, json.Unmarshal(raw, &out))
	return out
}

// capabilitiesCopy returns a writable copy of the real capability files.
func capabilitiesCopy(t *testing.T) fstest.MapFS {
	t.Helper()
	out := fstest.MapFS{}
	require.NoError(t, fs.WalkDir(capabilities.FS, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(capabilities.FS, path)
		out[path] = &fstest.MapFile{Data: data}
		return err
	}))
	return out
}

// loadFrom loads the registry and the cases from the same files.
func loadFrom(t *testing.T, fsys fs.FS, providers ...capability.Provider) (*registry.Registry, *conformance.Suite, error) {
	t.Helper()
	reg, err := registry.Load(fsys, schemas.FS)
	require.NoError(t, err)
	if len(providers) == 0 {
		providers = []capability.Provider{projectkit.New()}
	}
	require.NoError(t, reg.Bind(providers...))
	suite, err := conformance.Load(fsys, schemas.FS, reg)
	return reg, suite, err
}

func TestLoad(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		_, suite, err := loadFrom(t, capabilitiesCopy(t))
		require.NoError(t, err)
		assert.Equal(t, len(loadSuite(t).Select(conformance.Filter{})), len(suite.Select(conformance.Filter{})))
	})

	const createTaskCases = "projects.create_task/0.1.0.cases.yaml"
	const listStaffCases = "projects.list_staff/0.1.0.cases.yaml"
	happyOnly := "cases:\n" +
		"  - id: happy_path\n    kind: happy\n    description: Lists staff.\n    input: {limit: 100}\n    expect: {ok: true}\n"
	rejectionOnly := "cases:\n" +
		"  - id: rejects_bad_cursor\n    kind: rejection\n    description: Bad cursor.\n    input: {cursor: nope}\n    expect: {error: invalid_input}\n"
	for _, tt := range []struct {
		name    string
		file    string
		content *string // nil: the file is removed
		field   string
		message string
	}{
		{name: "ErrMissingCasesFile", file: createTaskCases, message: "missing: every capability version needs conformance cases"},
		{name: "ErrNoRejectionCase", file: listStaffCases, content: &happyOnly, field: "/cases",
			message: "projects.list_staff@0.1.0 has no rejection case"},
		{name: "ErrNoHappyCase", file: listStaffCases, content: &rejectionOnly, field: "/cases",
			message: "projects.list_staff@0.1.0 has no happy case"},
		{name: "ErrDuplicateID", file: listStaffCases, content: ptr(happyOnly + strings.TrimPrefix(rejectionOnly, "cases:\n") + strings.TrimPrefix(happyOnly, "cases:\n")),
			field: "/cases/2/id", message: "duplicate case id happy_path"},
		{name: "ErrUnknownGivenCall", file: listStaffCases,
			content: ptr(rejectionOnly + "    given: [{call: projects.nope, input: {}}]\n" + strings.TrimPrefix(happyOnly, "cases:\n")),
			field:   "/cases/0/given/0/call", message: "projects.nope"},
		{name: "ErrReservedID", file: listStaffCases, content: ptr(strings.Replace(happyOnly+strings.TrimPrefix(rejectionOnly, "cases:\n"), "id: happy_path", "id: gen.happy", 1)),
			field: "/cases/0/id"},
		{name: "ErrNotYAML", file: listStaffCases, content: ptr("cases: [\n"), message: "not valid YAML"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			fsys := capabilitiesCopy(t)
			if tt.content == nil {
				delete(fsys, tt.file)
			} else {
				fsys[tt.file] = &fstest.MapFile{Data: []byte(*tt.content)}
			}
			_, suite, err := loadFrom(t, fsys)
			require.Error(t, err)
			assert.Nil(t, suite)
			var problems registry.Problems
			require.True(t, errors.As(err, &problems), "%T: %v", err, err)
			found := false
			for _, p := range problems {
				assert.Equal(t, "capabilities/"+tt.file, p.File, "only the edited file has problems: %s", p)
				if p.File == "capabilities/"+tt.file && (tt.field == "" || p.Field == tt.field) && strings.Contains(p.Message, tt.message) {
					found = true
				}
			}
			assert.True(t, found, "a problem at %s %q among %v", tt.field, tt.message, problems)
		})
	}

	// A cases file with no manifest beside it (a renamed capability, a
	// mistyped version) is never run, and nothing says so: the registry
	// skips *.cases.yaml and Load only visits registered versions.
	t.Run("ErrOrphanCasesFile", func(t *testing.T) {
		fsys := capabilitiesCopy(t)
		fsys["projects.list_staf/0.1.0.cases.yaml"] = fsys[listStaffCases]
		_, _, err := loadFrom(t, fsys)
		reported := err != nil && strings.Contains(err.Error(), "projects.list_staf/0.1.0.cases.yaml")
		if !reported {
			require.NoError(t, err, "today the file is ignored")
		}
		assert.True(t, reported, "a cases file without a manifest is reported")
	})
}

func ptr(s string) *string { return &s }

// TestGivenFailureIsError runs cases against projectkit whose setup cannot
// succeed: they error, and only a wrong answer to the call under test fails.
func TestGivenFailureIsError(t *testing.T) {
	ctx := context.Background()
	suite := loadSuite(t)
	db, err := sqlite.Open(ctx, sqlite.Options{Dir: t.TempDir()})
	require.NoError(t, err)
	defer db.Close()
	require.NoError(t, db.Control().CreateTenant(ctx, &capability.Tenant{Slug: "org"}))
	local, err := conformance.NewLocal(ctx, suite.Registry, db.Tenants(), "org")
	require.NoError(t, err)
	defer local.Close()
	getTask := version(t, suite, "projects.get_task")

	t.Run("ErrGivenRejected", func(t *testing.T) {
		c := &conformance.Case{
			ID: "given_fails", Kind: conformance.KindHappy, Version: getTask,
			Given:  []conformance.Step{{As: "t", Call: "projects.get_task", Input: map[string]any{"task_id": unknownTaskID}}},
			Input:  map[string]any{"task_id": "{{t.task.task_id}}"},
			Expect: conformance.Expect{OK: true},
		}
		r := runOne(t, suite, local, c)
		assert.Equal(t, capability.OutcomeError, r.Outcome, r.Message)
		assert.Contains(t, r.Message, "given step 1 (projects.get_task)")
		assert.Contains(t, r.Message, capability.CodeUnknownTask)
	})

	t.Run("ErrLaterGivenRejected", func(t *testing.T) {
		c := &conformance.Case{
			ID: "second_given_fails", Kind: conformance.KindRejection, Version: getTask,
			Given: []conformance.Step{
				{As: "p", Call: "projects.create_project", Input: map[string]any{"name": "Given {{run.unique}}"}},
				{Call: "projects.transition_task", Input: map[string]any{"task_id": unknownTaskID, "to": "doing"}},
			},
			Input:  map[string]any{"task_id": unknownTaskID},
			Expect: conformance.Expect{Error: capability.CodeUnknownTask},
		}
		r := runOne(t, suite, local, c)
		assert.Equal(t, capability.OutcomeError, r.Outcome, r.Message)
		assert.Contains(t, r.Message, "given step 2 (projects.transition_task)")
	})

	t.Run("FailWhenCallUnderTestIsWrong", func(t *testing.T) {
		c := &conformance.Case{
			ID: "expects_success", Kind: conformance.KindHappy, Version: getTask,
			Input:  map[string]any{"task_id": unknownTaskID},
			Expect: conformance.Expect{OK: true},
		}
		r := runOne(t, suite, local, c)
		assert.Equal(t, capability.OutcomeFail, r.Outcome, r.Message)
		assert.Contains(t, r.Message, "expected ok")
	})
}

// TestReadBackOutputSchema: a read-back in then is a call like any other,
// so an answer breaking its capability's output schema must fail the case
// even when the fields the case compares are right. Today callOK checks
// only ok, never the schema, so a provider answering get_task with
// task.status "archived" passes every case that reads a task back without
// comparing its status (update_task's clears_with_null, see
// TestHarnessCatchesBrokenProviders).
func TestReadBackOutputSchema(t *testing.T) {
	suite := loadSuite(t)
	task := map[string]any{
		"task_id": "tsk_1", "project_id": "prj_1", "title": "Write", "description": "", "status": "archived",
		"priority": nil, "due_date": nil, "assignee_id": nil, "agent_vendor": nil,
		"created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z",
	}
	target := &scripted{answers: map[string]func(map[string]any) *conformance.Response{
		"projects.create_task": fixed(okAnswer(map[string]any{"task_id": "tsk_1", "status": "todo"})),
		"projects.get_task":    fixed(okAnswer(map[string]any{"task": task, "allowed_transitions": []any{}})),
	}}
	c := &conformance.Case{
		ID: "reads_back", Kind: conformance.KindHappy, Version: suite.Registry.VersionsOf("projects.create_task")[0],
		Input: map[string]any{"project_id": "prj_1", "title": "Write"},
		Expect: conformance.Expect{OK: true, Then: []conformance.Check{{
			Call: "projects.get_task", Input: map[string]any{"task_id": "{{result.task_id}}"},
			Fields: map[string]any{"task.title": "Write"},
		}}},
	}
	r := runOne(t, suite, target, c)
	require.Len(t, target.callsOf("projects.get_task"), 1, "the read-back was made")
	caught := r.Outcome == capability.OutcomeFail && strings.Contains(r.Message, "output schema")
	if !caught {
		require.Equal(t, capability.OutcomePass, r.Outcome, "today the case passes: %s", r.Message)
	}
	assert.True(t, caught, "read-back (then) outputs are checked against their output schema")
}

// TestRetiredVersionCases: a published version is retired, never deleted,
// so its manifest and cases stay. A retired version answers
// upgrade_required to every call, so running its cases can only fail: a
// run over everything must leave retired versions out (or expect
// upgrade_required). Today Select returns their cases and they all fail.
func TestRetiredVersionCases(t *testing.T) {
	fsys := capabilitiesCopy(t)
	const old, next = "projects.list_staff/0.1.0", "projects.list_staff/0.2.0"
	fsys[next+".yaml"] = &fstest.MapFile{Data: []byte(strings.Replace(string(fsys[old+".yaml"].Data), "version: 0.1.0", "version: 0.2.0", 1))}
	fsys[next+".cases.yaml"] = fsys[old+".cases.yaml"]
	fsys[old+".yaml"] = &fstest.MapFile{Data: []byte(strings.Replace(string(fsys[old+".yaml"].Data),
		"status: stable", "status: retired\nreplacement: projects.list_staff@0.2.0", 1))}
	reg, suite, err := loadFrom(t, fsys, withListStaff020{projectkit.New()})
	require.NoError(t, err)
	require.Equal(t, capability.StatusRetired, reg.VersionsOf("projects.list_staff")[0].Manifest.Status)

	ctx := context.Background()
	db, err := sqlite.Open(ctx, sqlite.Options{Dir: t.TempDir()})
	require.NoError(t, err)
	defer db.Close()
	require.NoError(t, db.Control().CreateTenant(ctx, &capability.Tenant{Slug: "org"}))
	cases := suite.Select(conformance.Filter{Capability: "projects.list_staff"})
	results, err := (&conformance.Runner{Suite: suite}).RunLocal(ctx, conformance.NewRunID(time.Now()), db.Tenants(), []string{"org"}, cases)
	require.NoError(t, err)

	require.NotEmpty(t, results)
	for _, r := range results {
		assert.Equal(t, "0.2.0", r.Version, "a retired version's cases are not run (%s)", r.CaseID)
		assert.Equal(t, capability.OutcomePass, r.Outcome, "%s %s: %s", r.Version, r.CaseID, r.Message)
	}
	assert.NotEmpty(t, suite.Cases(reg.VersionsOf("projects.list_staff")[0]), "the retired version's cases stay loaded")
}

// withListStaff020 is projectkit serving projects.list_staff@0.2.0 with
// the 0.1.0 handler, for a registry that added that version.
type withListStaff020 struct{ *projectkit.Provider }

func (p withListStaff020) Handlers() map[string]capability.Handler {
	hs := maps.Clone(p.Provider.Handlers())
	hs["projects.list_staff@0.2.0"] = hs["projects.list_staff@0.1.0"]
	return hs
}

func TestSelect(t *testing.T) {
	suite := loadSuite(t)
	all := suite.Select(conformance.Filter{})
	total := 0
	for _, v := range suite.Registry.Versions() {
		total += len(suite.Cases(v))
	}
	require.Len(t, all, total, "an empty filter selects everything")
	for i := 1; i < len(all); i++ {
		assert.LessOrEqual(t, all[i-1].Version.Manifest.Name, all[i].Version.Manifest.Name, "ordered by capability name")
	}

	count := func(keep func(*conformance.Case) bool) int {
		n := 0
		for _, c := range all {
			if keep(c) {
				n++
			}
		}
		return n
	}
	for _, tt := range []struct {
		name   string
		filter conformance.Filter
		keep   func(*conformance.Case) bool
	}{
		{"Name", conformance.Filter{Capability: "projects.create_task"},
			func(c *conformance.Case) bool { return c.Version.Manifest.Name == "projects.create_task" }},
		{"NameAtVersion", conformance.Filter{Capability: "projects.create_task@0.1.0"},
			func(c *conformance.Case) bool { return c.Ref() == "projects.create_task@0.1.0" }},
		{"UnknownVersion", conformance.Filter{Capability: "projects.create_task@9.9.9"},
			func(*conformance.Case) bool { return false }},
		{"UnknownName", conformance.Filter{Capability: "projects.nope"},
			func(*conformance.Case) bool { return false }},
		{"NamePrefixIsNotAName", conformance.Filter{Capability: "projects.create"},
			func(*conformance.Case) bool { return false }},
		{"CaseID", conformance.Filter{Case: "happy_path"},
			func(c *conformance.Case) bool { return c.ID == "happy_path" }},
		{"GeneratedCaseID", conformance.Filter{Case: "gen.unknown_property"},
			func(c *conformance.Case) bool { return c.ID == "gen.unknown_property" }},
		{"KindHappy", conformance.Filter{Kind: conformance.KindHappy},
			func(c *conformance.Case) bool { return c.Kind == conformance.KindHappy }},
		{"KindRejection", conformance.Filter{Kind: conformance.KindRejection},
			func(c *conformance.Case) bool { return c.Kind == conformance.KindRejection }},
		{"KindGenerated", conformance.Filter{Kind: conformance.KindGenerated},
			func(c *conformance.Case) bool { return c.Kind == conformance.KindGenerated }},
		{"Combined", conformance.Filter{Capability: "projects.transition_task@0.1.0", Kind: conformance.KindRejection, Case: "rejects_unknown_task"},
			func(c *conformance.Case) bool {
				return c.Ref() == "projects.transition_task@0.1.0" && c.Kind == conformance.KindRejection && c.ID == "rejects_unknown_task"
			}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := suite.Select(tt.filter)
			assert.Len(t, got, count(tt.keep))
			for _, c := range got {
				assert.True(t, tt.keep(c), "%s %s matches %+v", c.Ref(), c.ID, tt.filter)
			}
		})
	}

	// Spot checks, so the rules above cannot all be vacuous.
	assert.Len(t, suite.Select(conformance.Filter{Case: "happy_path"}), len(suite.Registry.Versions()), "every version has a happy_path")
	assert.Len(t, suite.Select(conformance.Filter{Capability: "projects.transition_task@0.1.0", Case: "rejects_unknown_task"}), 1)
	assert.NotEmpty(t, suite.Select(conformance.Filter{Capability: "projects.create_task", Kind: conformance.KindGenerated}))
}
