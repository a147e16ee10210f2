package schema

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestStripAnnotations drops annotation keywords but keeps properties that
// happen to be named like them, so validation is unchanged.
func TestStripAnnotations(t *testing.T) {
	in := json.RawMessage(`{"type":"object","title":"T","description":"d","required":["description"],
		"properties":{"description":{"type":"string","description":"the task's description","examples":["x"]},
		"title":{"type":"string","$comment":"c"}},
		"$defs":{"title":{"type":"integer","description":"gone"}}}`)
	out, err := StripAnnotations(in)
	require.NoError(t, err)
	var got map[string]any
	require.NoError(t, json.Unmarshal(out, &got))
	assert.Equal(t, map[string]any{
		"type":     "object",
		"required": []any{"description"},
		"properties": map[string]any{
			"description": map[string]any{"type": "string"},
			"title":       map[string]any{"type": "string"},
		},
		"$defs": map[string]any{"title": map[string]any{"type": "integer"}},
	}, got)
}
