package main

import (
	"bytes"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/capd-dev/capd/internal/capability"
	"github.com/capd-dev/capd/internal/store/sqlite"
)

// idPropertyKinds maps an input property that holds an id to the prefix of
// the ids it takes. A new kind of id property must be added here (with a
// way to create such an object in isolationWorld), or the isolation matrix
// fails for every capability that has one.
var idPropertyKinds = map[string]string{
	"project_id":  sqlite.PrefixProject,
	"task_id":     sqlite.PrefixTask,
	"action_id":   sqlite.PrefixAction,
	"run_id":      sqlite.PrefixRun,
	"artifact_id": sqlite.PrefixArtifact,
	"assignee_id": sqlite.PrefixStaff,
	"staff_id":    sqlite.PrefixStaff,
}

// leakMarker is in the name, title or content of everything tenant A's
// part of the test creates (and in its {{run.unique}}); tenant B must never
// see it.
const leakMarker = "leakcheck"

// idRE matches capd's ids.
var idRE = regexp.MustCompile(`\b(?:prj|tsk|stf|act|run|art)_[0-9a-f]{32}\b`)

// isolationWorld creates one object of every id kind in a tenant through
// the tool API, each carrying leakMarker, and returns their ids by prefix.
func isolationWorld(t *testing.T, base, key string) map[string]string {
	t.Helper()
	w := map[string]string{}
	staff := tapiOK(t, base, key, "projects.list_staff", map[string]any{"limit": 1})["items"].([]any)
	require.NotEmpty(t, staff, "the tenant needs a staff member")
	w[sqlite.PrefixStaff] = staff[0].(map[string]any)["staff_id"].(string)
	w[sqlite.PrefixProject] = field(tapiOK(t, base, key, "projects.create_project", map[string]any{
		"name": leakMarker + " project", "description": leakMarker + " description"}), "project", "project_id").(string)
	w[sqlite.PrefixTask] = tapiOK(t, base, key, "projects.create_task", map[string]any{
		"project_id": w[sqlite.PrefixProject], "title": leakMarker + " task", "description": leakMarker + " secret",
		"assignee_id": w[sqlite.PrefixStaff]})["task_id"].(string)
	w[sqlite.PrefixAction] = field(tapiOK(t, base, key, "projects.add_task_action", map[string]any{
		"task_id": w[sqlite.PrefixTask], "title": leakMarker + " action"}), "action", "action_id").(string)
	w[sqlite.PrefixRun] = field(tapiOK(t, base, key, "projects.start_task_run", map[string]any{
		"task_id": w[sqlite.PrefixTask], "branch": leakMarker + "-branch"}), "run", "run_id").(string)
	w[sqlite.PrefixArtifact] = field(tapiOK(t, base, key, "projects.attach_task_run_artifact", map[string]any{
		"run_id": w[sqlite.PrefixRun], "name": leakMarker + ".txt", "content_type": "text/plain", "content": leakMarker + " content"}), "artifact", "artifact_id").(string)
	return w
}

// bAnswer is one answer tenant B got, and the id of A's it sent (which the
// answer may echo).
type bAnswer struct {
	what string
	sent string
	body []byte
}

// TestTenantIsolationMatrix calls every capability version that takes an id
// (a top-level input property ending in _id) with tenant B's key and an id
// of tenant A's, and again with a well-formed id that never existed: the
// two answers must be the same but for the id's text, and no answer to B
// may carry anything of A's. Each call starts from the version's first
// happy conformance case (set up in B with B's objects), with one id
// property replaced; the same input in A with A's id must succeed, so the
// id was real. The list comes from the registry: a new capability is
// covered when it is added, and one that cannot be exercised fails.
func TestTenantIsolationMatrix(t *testing.T) {
	f := newFixture(t)
	base := strings.TrimSuffix(startServer(t, f), "/mcp")
	s := newContractSuite(t)
	worldA := isolationWorld(t, base, f.fullA)

	var answers []bAnswer
	exercised := 0
	for _, v := range s.reg.Versions() {
		ref := v.Manifest.Ref()
		var idProps []string
		for _, p := range inputProperties(v) {
			if strings.HasSuffix(p, "_id") {
				idProps = append(idProps, p)
			}
		}
		for _, prop := range idProps {
			t.Run(ref+"/"+prop, func(t *testing.T) {
				prefix, known := idPropertyKinds[prop]
				require.True(t, known, "%s takes %s, an id of a kind this test cannot create: add it to idPropertyKinds and isolationWorld", ref, prop)
				retired := v.Manifest.Status == capability.StatusRetired
				inA, inB := map[string]any{}, map[string]any{}
				if !retired {
					var ok bool
					inA, ok = s.validInput(t, base, f.fullA, leakMarker, v)
					require.True(t, ok, "%s has no happy conformance case to build a valid call from, so its %s cannot be exercised", ref, prop)
					inB, _ = s.validInput(t, base, f.fullB, "bside", v)
				}
				aID, _ := inA[prop].(string)
				if aID == "" {
					aID = worldA[prefix]
				}
				require.True(t, strings.HasPrefix(aID, prefix+"_"), "%s: %s of A is %q, not a %s id", ref, prop, aID, prefix)
				missing := sqlite.NewID(prefix)

				withA, withMissing := cloneInput(inB), cloneInput(inB)
				withA[prop], withMissing[prop] = aID, missing
				got := tapiCall(t, base, f.fullB, ref, withA)
				never := tapiCall(t, base, f.fullB, ref, withMissing)
				answers = append(answers,
					bAnswer{what: ref + " " + prop + "=A's", sent: aID, body: got.Body},
					bAnswer{what: ref + " " + prop + "=missing", body: never.Body})

				assert.Equal(t, never.Status, got.Status, "status differs:\nA's id: %s\nmissing: %s", got.Body, never.Body)
				assert.Equal(t, never.errorCode(), got.errorCode())
				assert.Equal(t, never.issuePaths(), got.issuePaths())
				assert.Equal(t, string(bytes.ReplaceAll(never.Body, []byte(missing), []byte("<ID>"))),
					string(bytes.ReplaceAll(got.Body, []byte(aID), []byte("<ID>"))),
					"B can tell A's %s from one that never existed", prop)
				if got.Status == http.StatusOK && !v.Manifest.Annotations.ReadOnly {
					t.Errorf("%s with A's %s wrote in B: %s", ref, prop, got.Body)
				}

				if !retired {
					withA := cloneInput(inA)
					withA[prop] = aID
					own := tapiCall(t, base, f.fullA, ref, withA)
					assert.Equal(t, http.StatusOK, own.Status, "the same call in A with A's %s must succeed: %s", prop, own.Body)
				}
				exercised++
			})
		}
	}
	require.Positive(t, exercised, "no capability takes an id?")

	// Whatever B lists, A's objects are not among them.
	for _, name := range s.reg.Names() {
		v := s.reg.Latest(name)
		if v == nil || !v.Manifest.Annotations.ReadOnly {
			continue
		}
		if doc, _ := v.Input.Doc().(map[string]any); doc["required"] != nil {
			continue
		}
		in := map[string]any{}
		for _, p := range inputProperties(v) {
			if p == "limit" {
				in["limit"] = 100
			}
		}
		r := tapiCall(t, base, f.fullB, v.Manifest.Ref(), in)
		require.Equal(t, http.StatusOK, r.Status, "%s: %s", v.Manifest.Ref(), r.Body)
		answers = append(answers, bAnswer{what: v.Manifest.Ref() + " listing", body: r.Body})
	}

	idsOfA := map[string]bool{}
	for _, line := range dumpTenant(t, f.data, f.tenantA) {
		for _, id := range idRE.FindAllString(line, -1) {
			idsOfA[id] = true
		}
	}
	require.NotEmpty(t, idsOfA)
	for _, a := range answers {
		assert.NotContains(t, string(a.body), leakMarker, "%s: B sees a name, title or text of A's", a.what)
		for _, id := range idRE.FindAllString(string(a.body), -1) {
			if id != a.sent {
				assert.False(t, idsOfA[id], "%s: B's answer carries A's id %s: %s", a.what, id, a.body)
			}
		}
	}
}
