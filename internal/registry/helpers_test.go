package registry_test

import (
	"context"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/capd-dev/capd/capabilities"
	"github.com/capd-dev/capd/internal/capability"
	"github.com/capd-dev/capd/internal/providers/projectkit"
	"github.com/capd-dev/capd/internal/registry"
	"github.com/capd-dev/capd/schemas"
)

// loadReal loads the embedded manifests and binds projectkit, as capd does
// at start-up.
func loadReal(t *testing.T) *registry.Registry {
	t.Helper()
	r, err := registry.Load(capabilities.FS, schemas.FS)
	require.NoError(t, err)
	require.NoError(t, r.Bind(projectkit.New()))
	require.NotEmpty(t, r.Versions())
	return r
}

// minimalManifest is the smallest manifest Load accepts. Tests parse it,
// change one thing, and write it back, so each broken case differs from a
// valid manifest in exactly the way its name says.
const minimalManifest = `
name: test.thing
version: 0.1.0
scope: projects.read
status: stable
title: thing
summary: Does a thing.
semantics: Reads the thing.
invariants:
  - Changes nothing.
when_to_use: When you need the thing.
annotations:
  read_only: true
  destructive: false
  idempotent: true
  open_world: false
errors:
  invalid_input:
    meaning: The input is wrong.
    next: Fix it and call test.thing again.
input_schema:
  type: object
  additionalProperties: false
  required: [id]
  properties:
    id:
      type: string
      minLength: 1
output_schema:
  type: object
  required: [ok]
  properties:
    ok:
      type: boolean
    error:
      type: string
      enum: [invalid_input]
    message:
      type: string
    thing:
      type: string
examples:
  - title: Read the thing
    input:
      id: t1
    output:
      ok: true
      thing: t1
  - title: Reject an id that names no thing
    input:
      id: nope
    output:
      ok: false
      error: invalid_input
      message: No thing has id nope.
`

// manifest returns minimalManifest as YAML with name and version set and
// every edit applied to the decoded document.
func manifest(t *testing.T, name, version string, edits ...func(m map[string]any)) []byte {
	t.Helper()
	var m map[string]any
	require.NoError(t, yaml.Unmarshal([]byte(minimalManifest), &m))
	m["name"], m["version"] = name, version
	for _, edit := range edits {
		edit(m)
	}
	out, err := yaml.Marshal(m)
	require.NoError(t, err)
	return out
}

// withStatus sets the status and, when given, the replacement.
func withStatus(status capability.Status, replacement string) func(map[string]any) {
	return func(m map[string]any) {
		m["status"] = string(status)
		if replacement != "" {
			m["replacement"] = replacement
		}
	}
}

// file returns a MapFS entry for data.
func file(data []byte) *fstest.MapFile { return &fstest.MapFile{Data: data} }

// load loads fsys with the real shared schemas.
func load(fsys fstest.MapFS) (*registry.Registry, error) {
	return registry.Load(fsys, schemas.FS)
}

// requireProblems asserts err is a registry.Problems and returns it.
func requireProblems(t *testing.T, err error) registry.Problems {
	t.Helper()
	require.Error(t, err)
	var ps registry.Problems
	require.ErrorAs(t, err, &ps)
	require.NotEmpty(t, ps)
	return ps
}

// stubHandler is a handler for fixtures that are never called.
func stubHandler(context.Context, *capability.Call) (map[string]any, error) {
	return map[string]any{}, nil
}

// fakeProvider is a provider with whatever handlers a test gives it.
type fakeProvider struct {
	name     string
	handlers map[string]capability.Handler
}

var _ capability.Provider = (*fakeProvider)(nil)

func (p *fakeProvider) Name() string                            { return p.name }
func (p *fakeProvider) Handlers() map[string]capability.Handler { return p.handlers }

// provides returns a provider named name with a stub handler for each ref.
func provides(name string, refs ...string) *fakeProvider {
	p := &fakeProvider{name: name, handlers: map[string]capability.Handler{}}
	for _, ref := range refs {
		p.handlers[ref] = stubHandler
	}
	return p
}
