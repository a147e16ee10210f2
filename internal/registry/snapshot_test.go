package registry_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/capd-dev/capd/internal/capability"
)

// updateContracts writes the snapshot of every published version that has
// none yet. It never overwrites one: a published contract is frozen.
var updateContracts = flag.Bool("update-contracts", false, "write missing testdata/contracts snapshots (never overwrites existing ones)")

// contractDir holds one frozen contract per published version.
const contractDir = "testdata/contracts"

// contract is what a snapshot freezes: the schemas as the manifest writes
// them, shared $refs included, not bundled.
type contract struct {
	InputSchema  json.RawMessage `json:"input_schema"`
	OutputSchema json.RawMessage `json:"output_schema"`
}

func contractPath(ref string) string { return filepath.Join(contractDir, ref+".json") }

func contractOf(m *capability.Manifest) contract {
	return contract{InputSchema: m.Input, OutputSchema: m.Output}
}

// decodeJSON decodes data into a generic value, so two documents compare
// equal whatever their key order and spacing.
func decodeJSON(t *testing.T, data []byte) any {
	t.Helper()
	var v any
	require.NoError(t, json.Unmarshal(data, &v))
	return v
}

func encodeContract(t *testing.T, c contract) []byte {
	t.Helper()
	raw, err := json.Marshal(c)
	require.NoError(t, err)
	var out bytes.Buffer
	require.NoError(t, json.Indent(&out, raw, "", "  "))
	out.WriteByte('\n')
	return out.Bytes()
}

// TestContractSnapshots freezes every published version's schemas (STYLE
// 11). Run with -update-contracts to add the snapshot of a new version.
func TestContractSnapshots(t *testing.T) {
	r := loadReal(t)
	for _, v := range r.Versions() {
		ref := v.Manifest.Ref()
		t.Run(ref, func(t *testing.T) {
			path := contractPath(ref)
			want, err := os.ReadFile(path)
			if errors.Is(err, fs.ErrNotExist) {
				if !*updateContracts {
					t.Fatalf("%s has no contract snapshot %s; run go test ./internal/registry/ -run TestContractSnapshots -update-contracts and check the file in", ref, path)
				}
				require.NoError(t, os.MkdirAll(contractDir, 0o755))
				require.NoError(t, os.WriteFile(path, encodeContract(t, contractOf(v.Manifest)), 0o644))
				t.Logf("wrote %s", path)
				return
			}
			require.NoError(t, err)
			got, err := json.Marshal(contractOf(v.Manifest))
			require.NoError(t, err)
			assert.Equal(t, decodeJSON(t, want), decodeJSON(t, got),
				"%s: the schemas in %s differ from the published contract %s. A published contract must not change: "+
					"revert the schema change, or publish it as a new version (a new manifest file) and leave this one as it is",
				ref, v.File, path)
		})
	}
}

// TestContractSnapshotsHaveManifests catches a published version whose
// manifest was deleted: clients pinned to it would break. Retire it instead.
func TestContractSnapshotsHaveManifests(t *testing.T) {
	r := loadReal(t)
	published := map[string]bool{}
	for _, v := range r.Versions() {
		published[v.Manifest.Ref()] = true
	}
	files, err := filepath.Glob(filepath.Join(contractDir, "*.json"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		ref := strings.TrimSuffix(filepath.Base(f), ".json")
		assert.True(t, published[ref], "%s freezes %s, which has no manifest any more; a published version is retired (status: retired), never deleted", f, ref)
	}
}

// TestCreateTaskContractMatchesReference checks that create_task's manifest
// schemas are the reference contract, extracted verbatim into its snapshot.
func TestCreateTaskContractMatchesReference(t *testing.T) {
	r := loadReal(t)
	v, err := r.Resolve(capability.Ref{Name: "projects.create_task", Version: "0.1.0"})
	require.NoError(t, err)
	reference, err := os.ReadFile(contractPath("projects.create_task@0.1.0"))
	require.NoError(t, err, "the reference contract snapshot must be checked in")

	var want contract
	require.NoError(t, json.Unmarshal(reference, &want))
	require.NotEmpty(t, want.InputSchema)
	require.NotEmpty(t, want.OutputSchema)
	t.Run("OKInputSchema", func(t *testing.T) {
		assert.Equal(t, decodeJSON(t, want.InputSchema), decodeJSON(t, v.Manifest.Input))
	})
	t.Run("OKOutputSchema", func(t *testing.T) {
		assert.Equal(t, decodeJSON(t, want.OutputSchema), decodeJSON(t, v.Manifest.Output))
	})
}
