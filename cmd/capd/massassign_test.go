package main

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/capd-dev/capd/internal/capability"
	"github.com/capd-dev/capd/internal/registry"
)

// serverOwnedFields are fields the server sets and no caller may: each is
// sent, with a plausible value, on top of a valid input of every write
// capability. "status" is only refused where the input does not declare it
// (update_task_run takes a run's status); a create capability must not
// declare it.
var serverOwnedFields = map[string]any{
	"tenant_id":  "driftline-design",
	"tenant":     "driftline-design",
	"created_at": "2000-01-01T00:00:00Z",
	"updated_at": "2000-01-01T00:00:00Z",
	"id":         "prj_00000000000000000000000000000001",
	"owner":      "mallory",
	"status":     "done",
}

// createVerbs start the action of a capability that creates something.
var createVerbs = []string{"create_", "add_", "start_", "attach_", "append_"}

func isCreate(v *registry.Version) bool {
	_, action, _ := strings.Cut(v.Manifest.Name, ".")
	for _, verb := range createVerbs {
		if strings.HasPrefix(action, verb) {
			return true
		}
	}
	return false
}

// TestMassAssignment sends every write capability version its valid input
// (from its first happy conformance case) plus one server-owned field at a
// time. Each must be 422 invalid_input naming that field, and tenant A's
// whole database must read the same before and after. The valid input on
// its own then succeeds, so the field alone was the reason.
func TestMassAssignment(t *testing.T) {
	f := newFixture(t)
	base := strings.TrimSuffix(startServer(t, f), "/mcp")
	s := newContractSuite(t)
	tested := 0
	for _, v := range s.reg.Versions() {
		if v.Manifest.Scope != capability.ScopeProjectsWrite && v.Manifest.Annotations.ReadOnly {
			continue
		}
		if v.Manifest.Status == capability.StatusRetired {
			continue // answers upgrade_required whatever it is sent
		}
		ref := v.Manifest.Ref()
		t.Run(ref, func(t *testing.T) {
			in, ok := s.validInput(t, base, f.fullA, "massassign", v)
			require.True(t, ok, "%s has no happy conformance case to take a valid input from", ref)
			declared := inputProperties(v)
			fields := make([]string, 0, len(serverOwnedFields))
			for name := range serverOwnedFields {
				fields = append(fields, name)
			}
			slices.Sort(fields)
			for _, name := range fields {
				if slices.Contains(declared, name) {
					if name != "status" || isCreate(v) {
						t.Errorf("%s declares %s as an input: a caller could set what the server owns", ref, name)
					}
					continue
				}
				before := dumpTenant(t, f.data, f.tenantA)
				withField := cloneInput(in)
				withField[name] = serverOwnedFields[name]
				r := tapiCall(t, base, f.fullA, ref, withField)
				if assert.Equal(t, http.StatusUnprocessableEntity, r.Status, "%s + %s: %s", ref, name, r.Body) {
					assert.Equal(t, "validation_error", r.JSON["type"])
					assert.Equal(t, capability.CodeInvalidInput, r.errorCode())
					assert.Contains(t, r.issuePaths(), "/"+name, "the rejection must name %s: %s", name, r.Body)
					assert.Contains(t, r.errorLocs(), "body."+name, "the envelope must locate %s: %s", name, r.Body)
				}
				assert.Equal(t, before, dumpTenant(t, f.data, f.tenantA), "%s + %s wrote to the tenant", ref, name)
			}
			// The read-back does see writes: the valid input alone succeeds
			// and changes the database.
			before := dumpTenant(t, f.data, f.tenantA)
			tapiOK(t, base, f.fullA, ref, in)
			assert.NotEqual(t, before, dumpTenant(t, f.data, f.tenantA), "%s succeeded but the read-back saw no change", ref)
			tested++
		})
	}
	require.Positive(t, tested, "no write capabilities?")
}
