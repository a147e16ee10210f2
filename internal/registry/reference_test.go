package registry_test

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/capd-dev/capd/internal/capability"
)

// referencePath is the reference contract of projects.create_task@0.1.0,
// extracted verbatim from the page capd's catalog is modelled on. Every
// other published version is frozen by capabilities/contracts.lock.
const referencePath = "testdata/contracts/projects.create_task@0.1.0.json"

// contract is the reference file's shape.
type contract struct {
	InputSchema  json.RawMessage `json:"input_schema"`
	OutputSchema json.RawMessage `json:"output_schema"`
}

// decodeJSON decodes data into a generic value, so two documents compare
// equal whatever their key order and spacing.
func decodeJSON(t *testing.T, data []byte) any {
	t.Helper()
	var v any
	require.NoError(t, json.Unmarshal(data, &v))
	return v
}

// TestCreateTaskContractMatchesReference checks that create_task's manifest
// schemas are the reference contract, extracted verbatim into its snapshot.
func TestCreateTaskContractMatchesReference(t *testing.T) {
	r := loadReal(t)
	v, err := r.Resolve(capability.Ref{Name: "projects.create_task", Version: "0.1.0"})
	require.NoError(t, err)
	reference, err := os.ReadFile(referencePath)
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
