package invoke_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/capd-dev/capd/internal/capability"
	"github.com/capd-dev/capd/internal/invoke"
	"github.com/capd-dev/capd/internal/registry"
)

// createNamed creates a project named after the call's "name" input, so a
// test can look for it afterwards.
func createNamed(ctx context.Context, c *capability.Call) (*capability.Project, error) {
	var in struct {
		Name string `json:"name"`
	}
	if err := json.Unmarshal(c.Input, &in); err != nil {
		return nil, err
	}
	p := &capability.Project{Name: in.Name, CreatedAt: c.Now, UpdatedAt: c.Now}
	return p, c.Tx.CreateProject(ctx, p)
}

// handlerRegistry serves test.<name>@0.1.0 for each handler, all with
// fakeManifest's contract; test.read is read-only.
func handlerRegistry(t *testing.T, handlers map[string]capability.Handler) *registry.Registry {
	t.Helper()
	files := map[string][]byte{}
	bound := fakeProvider{}
	for name, h := range handlers {
		files["test."+name+"/0.1.0.yaml"] = fakeManifest("test."+name, "0.1.0", capability.StatusStable, "", name == "read")
		bound["test."+name+"@0.1.0"] = h
	}
	return fakeRegistry(t, files, bound)
}

// projectExists reports whether tenant A has a project named name.
func (e *env) projectExists(t *testing.T, name string) bool {
	t.Helper()
	var found bool
	require.NoError(t, e.store(t, tenantA).View(context.Background(), func(tx capability.Tx) error {
		_, err := tx.FindProjectByName(context.Background(), name)
		if errors.Is(err, capability.ErrNotFound) {
			return nil
		}
		found = err == nil
		return err
	}))
	return found
}

func TestCallHandlerFaults(t *testing.T) {
	reg := handlerRegistry(t, map[string]capability.Handler{
		"good": func(ctx context.Context, c *capability.Call) (map[string]any, error) {
			p, err := createNamed(ctx, c)
			if err != nil {
				return nil, err
			}
			return map[string]any{"project_id": p.ID}, nil
		},
		"declared": func(ctx context.Context, c *capability.Call) (map[string]any, error) {
			return nil, &capability.Error{Code: capability.CodeUnknownProject, Message: "no such project",
				Issues: []capability.Issue{{Path: "/name", Message: "no such project"}}}
		},
		"undeclared": func(ctx context.Context, c *capability.Call) (map[string]any, error) {
			return nil, capability.Errorf(capability.CodeInvalidTransition, "not in this contract")
		},
		"crosscutting": func(ctx context.Context, c *capability.Call) (map[string]any, error) {
			return nil, capability.Errorf(capability.CodeUnavailable, "try later")
		},
		"plainerror": func(ctx context.Context, c *capability.Call) (map[string]any, error) {
			return nil, errors.New("disk on fire")
		},
		"badoutput": func(ctx context.Context, c *capability.Call) (map[string]any, error) {
			if _, err := createNamed(ctx, c); err != nil {
				return nil, err
			}
			return map[string]any{"project_id": 42}, nil // the schema says string
		},
		"rejectafterwrite": func(ctx context.Context, c *capability.Call) (map[string]any, error) {
			if _, err := createNamed(ctx, c); err != nil {
				return nil, err
			}
			return nil, capability.InvalidInput("changed my mind", capability.Issue{Path: "/name", Message: "no"})
		},
		"panics": func(ctx context.Context, c *capability.Call) (map[string]any, error) {
			if _, err := createNamed(ctx, c); err != nil {
				return nil, err
			}
			panic("handler bug")
		},
		"read": func(ctx context.Context, c *capability.Call) (map[string]any, error) {
			p, err := createNamed(ctx, c)
			if err != nil {
				return nil, err
			}
			return map[string]any{"project_id": p.ID}, nil
		},
	})
	e := newEnv(t, reg)
	p := principal(tenantA)
	call := func(t *testing.T, name, project string) *invoke.Result {
		return e.call(t, p, "test."+name, map[string]any{"name": project})
	}

	t.Run("OK", func(t *testing.T) {
		out := mustOK(t, call(t, "good", "Kept"))
		assert.NotEmpty(t, out["project_id"])
		assert.True(t, e.projectExists(t, "Kept"), "control: a successful call commits")
	})
	t.Run("OKDeclaredCodePassesThrough", func(t *testing.T) {
		res := call(t, "declared", "x")
		requireCode(t, res, capability.CodeUnknownProject)
		assert.True(t, res.InContract)
		assert.Equal(t, []string{"/name"}, issuePaths(res))
	})
	t.Run("ErrUndeclaredCodeBecomesInternal", func(t *testing.T) {
		res := call(t, "undeclared", "x")
		requireCode(t, res, capability.CodeInternal)
		assert.False(t, res.InContract)
		assert.NotContains(t, string(res.JSON), "not in this contract", "the cause stays in the log")
		assert.Contains(t, e.logs.String(), "not in this contract")
	})
	t.Run("OKCrossCuttingCodePassesThrough", func(t *testing.T) {
		res := call(t, "crosscutting", "x")
		requireCode(t, res, capability.CodeUnavailable)
		assert.False(t, res.InContract)
	})
	t.Run("ErrPlainErrorBecomesInternal", func(t *testing.T) {
		res := call(t, "plainerror", "x")
		requireCode(t, res, capability.CodeInternal)
		assert.NotContains(t, string(res.JSON), "disk on fire")
		assert.Contains(t, e.logs.String(), "disk on fire")
	})
	t.Run("ErrBadOutputIsInternalAndRolledBack", func(t *testing.T) {
		res := call(t, "badoutput", "Ghost")
		requireCode(t, res, capability.CodeInternal)
		assert.False(t, res.InContract)
		assert.False(t, e.projectExists(t, "Ghost"), "a result that breaks its contract must not commit its writes")
	})
	t.Run("ErrRejectionRollsBack", func(t *testing.T) {
		requireCode(t, call(t, "rejectafterwrite", "Regret"), capability.CodeInvalidInput)
		assert.False(t, e.projectExists(t, "Regret"))
	})
	t.Run("ErrPanicIsInternal", func(t *testing.T) {
		res := call(t, "panics", "Crash")
		requireCode(t, res, capability.CodeInternal)
		assert.False(t, e.projectExists(t, "Crash"))
		assert.Contains(t, e.logs.String(), "handler bug")
		t.Run("OKServerKeepsWorking", func(t *testing.T) {
			// The write lock was released and the invoker still serves.
			mustOK(t, call(t, "good", "After the crash"))
			assert.True(t, e.projectExists(t, "After the crash"))
		})
	})
	t.Run("ErrReadOnlyCapabilityCannotWrite", func(t *testing.T) {
		// A read-only capability runs in a read transaction, so a handler
		// that writes anyway fails instead of changing state.
		requireCode(t, call(t, "read", "Sneaky"), capability.CodeInternal)
		assert.False(t, e.projectExists(t, "Sneaky"))
	})
	t.Run("OKOneRecordPerCall", func(t *testing.T) {
		records := e.recorder.all()
		require.NotEmpty(t, records)
		last := records[len(records)-1]
		assert.Equal(t, "test.read@0.1.0", last.Capability)
		assert.Equal(t, capability.CodeInternal, last.Outcome)
	})
}

func TestCallDeprecated(t *testing.T) {
	ok := func(ctx context.Context, c *capability.Call) (map[string]any, error) {
		return map[string]any{"project_id": "prj_1"}, nil
	}
	reg := fakeRegistry(t, map[string][]byte{
		"test.thing/0.1.0.yaml": fakeManifest("test.thing", "0.1.0", capability.StatusDeprecated, "test.thing@0.2.0", false),
		"test.thing/0.2.0.yaml": fakeManifest("test.thing", "0.2.0", capability.StatusStable, "", false),
		"test.thing/0.3.0.yaml": fakeManifest("test.thing", "0.3.0", capability.StatusRetired, "test.thing@0.2.0", false),
	}, fakeProvider{"test.thing@0.1.0": ok, "test.thing@0.2.0": ok, "test.thing@0.3.0": ok})
	e := newEnv(t, reg)
	p := principal(tenantA)

	t.Run("OKDeprecatedWarns", func(t *testing.T) {
		res := e.call(t, p, "test.thing@0.1.0", nil)
		mustOK(t, res)
		assert.Equal(t, "0.1.0", res.Version.Manifest.Version)
		// The warning exists to name what to move to.
		assert.Contains(t, res.Warning, "test.thing@0.2.0")
	})
	t.Run("OKDeprecatedRejectionWarns", func(t *testing.T) {
		res := e.call(t, p, "test.thing@0.1.0", `{"colour":"red"}`)
		requireCode(t, res, capability.CodeInvalidInput)
		assert.NotEmpty(t, res.Warning)
	})
	t.Run("OKStableDoesNotWarn", func(t *testing.T) {
		res := e.call(t, p, "test.thing", nil)
		mustOK(t, res)
		assert.Equal(t, "0.2.0", res.Version.Manifest.Version)
		assert.Empty(t, res.Warning)
	})
	t.Run("ErrRetiredIsUpgradeRequired", func(t *testing.T) {
		res := e.call(t, p, "test.thing@0.3.0", nil)
		requireCode(t, res, capability.CodeUpgradeRequired)
		assert.Contains(t, res.Err.Message, "test.thing@0.2.0")
		assert.False(t, res.InContract)
	})
}
