package schema_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/capd-dev/capd/internal/schema"
)

// nested returns n arrays nested inside each other: "[[...]]".
func nested(n int) []byte {
	return []byte(strings.Repeat("[", n) + strings.Repeat("]", n))
}

func TestCheckDepth(t *testing.T) {
	const limit = 8

	t.Run("OKAtLimit", func(t *testing.T) {
		require.NoError(t, schema.CheckDepth(nested(limit), limit))
	})
	t.Run("OKObjectsAndArraysMixedAtLimit", func(t *testing.T) {
		doc := `{"a":[{"b":[{"c":[{"d":[1]}]}]}]}` // 8 levels
		require.NoError(t, schema.CheckDepth([]byte(doc), limit))
	})
	t.Run("ErrOneOverLimit", func(t *testing.T) {
		require.Error(t, schema.CheckDepth(nested(limit+1), limit))
	})
	t.Run("OKSiblingsDoNotAddUp", func(t *testing.T) {
		// Depth is how deep, not how many: closing brackets give levels back.
		siblings := make([]string, 50)
		for i := range siblings {
			siblings[i] = string(nested(limit - 1))
		}
		doc := "[" + strings.Join(siblings, ",") + "]"
		require.NoError(t, schema.CheckDepth([]byte(doc), limit))
	})
	t.Run("OKBracketsInsideStringsDoNotCount", func(t *testing.T) {
		doc := `{"a":"` + strings.Repeat("[{", 100) + `"}`
		require.NoError(t, schema.CheckDepth([]byte(doc), 1))
	})
	t.Run("OKEscapedQuoteDoesNotEndString", func(t *testing.T) {
		// \" keeps the string open, so the brackets after it are text.
		doc := `{"a":"\"` + strings.Repeat("[", 100) + `"}`
		require.NoError(t, schema.CheckDepth([]byte(doc), 1))
	})
	t.Run("ErrEscapedBackslashEndsString", func(t *testing.T) {
		// "\\" is a complete string: the brackets after it are structure.
		doc := `["\\",` + string(nested(limit)) + `]`
		require.Error(t, schema.CheckDepth([]byte(doc), limit))
	})
}

func TestDecode(t *testing.T) {
	t.Run("OKNumbersStayJSONNumber", func(t *testing.T) {
		v, err := schema.Decode([]byte(`{"n": 12345678901234567890, "f": 1.50, "a": [3]}`), schema.MaxDepth)
		require.NoError(t, err)
		m := v.(map[string]any)
		assert.Equal(t, json.Number("12345678901234567890"), m["n"])
		assert.Equal(t, json.Number("1.50"), m["f"])
		assert.Equal(t, []any{json.Number("3")}, m["a"])
	})
	t.Run("OKTrailingWhitespace", func(t *testing.T) {
		_, err := schema.Decode([]byte("{}\n\t "), schema.MaxDepth)
		require.NoError(t, err)
	})
	t.Run("ErrTrailingValue", func(t *testing.T) {
		_, err := schema.Decode([]byte(`{} {}`), schema.MaxDepth)
		require.Error(t, err)
	})
	t.Run("ErrTrailingGarbage", func(t *testing.T) {
		_, err := schema.Decode([]byte(`{"a":1}x`), schema.MaxDepth)
		require.Error(t, err)
	})
	t.Run("ErrInvalidJSON", func(t *testing.T) {
		_, err := schema.Decode([]byte(`{"a":`), schema.MaxDepth)
		require.Error(t, err)
	})
	t.Run("ErrTooDeep", func(t *testing.T) {
		_, err := schema.Decode(nested(schema.MaxDepth+1), schema.MaxDepth)
		require.Error(t, err)
	})
	t.Run("OKAtMaxDepth", func(t *testing.T) {
		_, err := schema.Decode(nested(schema.MaxDepth), schema.MaxDepth)
		require.NoError(t, err)
	})
}
