package schema_test

import (
	"bytes"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/capd-dev/capd/internal/capability"
	"github.com/capd-dev/capd/internal/schema"
	"github.com/capd-dev/capd/schemas"
)

// schemaSeq gives every compiled test schema its own URL: a compiler refuses
// to add the same resource twice.
var schemaSeq atomic.Int64

// compile compiles src (JSON) with a compiler that knows capd's shared
// schemas.
func compile(t *testing.T, src string) (*schema.Compiler, *schema.Schema) {
	t.Helper()
	c, err := schema.NewCompiler(schemas.FS)
	require.NoError(t, err)
	doc, err := jsonschema.UnmarshalJSON(strings.NewReader(src))
	require.NoError(t, err)
	s, err := c.Compile("capd:test/"+strings.Repeat("x", int(schemaSeq.Add(1)))+".json", doc)
	require.NoError(t, err)
	return c, s
}

// validate decodes instance and returns its issues under s.
func validate(t *testing.T, s *schema.Schema, instance string) []capability.Issue {
	t.Helper()
	v, err := schema.Decode([]byte(instance), schema.MaxDepth)
	require.NoError(t, err)
	return s.Validate(v)
}

// paths returns the path of every issue, in order.
func paths(issues []capability.Issue) []string {
	out := make([]string, len(issues))
	for i, is := range issues {
		out[i] = is.Path
	}
	return out
}

const testSchema = `{
  "type": "object",
  "additionalProperties": false,
  "required": ["name"],
  "properties": {
    "name":     {"type": "string", "maxLength": 5},
    "owner":    {"type": "object", "additionalProperties": false, "required": ["id"],
                 "properties": {"id": {"type": "string"}, "address": {"type": "object", "properties": {"city": {"type": "string"}}}}},
    "tags":     {"type": "array", "items": {"type": "string"}},
    "a/b~c":    {"type": "string"},
    "priority": {"anyOf": [{"$ref": "capd:schemas/task_priority.json"}, {"type": "null"}]},
    "due":      {"type": "string", "format": "date"},
    "at":       {"type": "string", "format": "date-time"}
  }
}`

func TestValidate(t *testing.T) {
	_, s := compile(t, testSchema)

	t.Run("OK", func(t *testing.T) {
		assert.Empty(t, validate(t, s, `{"name":"ok","owner":{"id":"x"},"tags":["a"],"priority":null,"due":"2026-02-28","at":"2026-02-28T10:00:00Z"}`))
	})
	t.Run("ErrNestedObjectPath", func(t *testing.T) {
		issues := validate(t, s, `{"name":"ok","owner":{"id":"x","address":{"city":7}}}`)
		require.Len(t, issues, 1)
		assert.Equal(t, "/owner/address/city", issues[0].Path)
		assert.Equal(t, "type", issues[0].Keyword)
	})
	t.Run("ErrArrayIndexPath", func(t *testing.T) {
		issues := validate(t, s, `{"name":"ok","tags":["a","b",3]}`)
		require.Len(t, issues, 1)
		assert.Equal(t, "/tags/2", issues[0].Path)
	})
	t.Run("ErrKeyWithSlashAndTildeIsEscaped", func(t *testing.T) {
		issues := validate(t, s, `{"name":"ok","a/b~c":1}`)
		require.Len(t, issues, 1)
		assert.Equal(t, "/a~1b~0c", issues[0].Path)
	})
	t.Run("ErrRequiredAtMissingField", func(t *testing.T) {
		issues := validate(t, s, `{}`)
		require.Len(t, issues, 1)
		assert.Equal(t, capability.Issue{Path: "/name", Message: issues[0].Message, Keyword: "required"}, issues[0])
	})
	t.Run("ErrNestedRequiredAtMissingField", func(t *testing.T) {
		issues := validate(t, s, `{"name":"ok","owner":{}}`)
		require.Len(t, issues, 1)
		assert.Equal(t, "/owner/id", issues[0].Path)
		assert.Equal(t, "required", issues[0].Keyword)
	})
	t.Run("ErrUnknownTopLevelFieldListsAllowedFields", func(t *testing.T) {
		issues := validate(t, s, `{"name":"ok","colour":"red"}`)
		require.Len(t, issues, 1)
		assert.Equal(t, "/colour", issues[0].Path)
		assert.Equal(t, "additionalProperties", issues[0].Keyword)
		// The message exists to tell the agent which fields it may send.
		for _, field := range []string{"name", "owner", "tags", "priority", "due", "at"} {
			assert.Contains(t, issues[0].Message, field)
		}
	})
	t.Run("ErrUnknownNestedFieldDoesNotListTopLevelFields", func(t *testing.T) {
		issues := validate(t, s, `{"name":"ok","owner":{"id":"x","colour":"red"}}`)
		require.Len(t, issues, 1)
		assert.Equal(t, "/owner/colour", issues[0].Path)
		assert.Equal(t, "additionalProperties", issues[0].Keyword)
		assert.NotContains(t, issues[0].Message, "priority")
	})
	t.Run("ErrNullableEnumIsOneIssueAtField", func(t *testing.T) {
		for _, bad := range []string{`"urgent"`, `5`, `true`} {
			issues := validate(t, s, `{"name":"ok","priority":`+bad+`}`)
			require.Len(t, issues, 1, "priority %s: %v", bad, issues)
			assert.Equal(t, "/priority", issues[0].Path)
			assert.Equal(t, "anyOf", issues[0].Keyword)
		}
	})
	t.Run("ErrImpossibleDate", func(t *testing.T) {
		for _, bad := range []string{"2026-02-30", "2026-13-01", "26-01-01", "2026-01-01T00:00:00Z"} {
			issues := validate(t, s, `{"name":"ok","due":"`+bad+`"}`)
			require.Len(t, issues, 1, "due %s", bad)
			assert.Equal(t, "/due", issues[0].Path)
			assert.Equal(t, "format", issues[0].Keyword)
		}
	})
	t.Run("ErrDateTimeWithoutTime", func(t *testing.T) {
		for _, bad := range []string{"2026-01-01", "2026-02-30T10:00:00Z", "2026-01-01 10:00:00"} {
			issues := validate(t, s, `{"name":"ok","at":"`+bad+`"}`)
			require.Len(t, issues, 1, "at %s", bad)
			assert.Equal(t, "/at", issues[0].Path)
			assert.Equal(t, "format", issues[0].Keyword)
		}
	})
	t.Run("ErrMaxLengthNamesLimit", func(t *testing.T) {
		issues := validate(t, s, `{"name":"toolong"}`)
		require.Len(t, issues, 1)
		assert.Equal(t, "/name", issues[0].Path)
		assert.Equal(t, "maxLength", issues[0].Keyword)
		assert.Contains(t, issues[0].Message, "5")
	})
	t.Run("ErrSeveralFieldsSortedByPath", func(t *testing.T) {
		issues := validate(t, s, `{"tags":[1],"due":"x","name":"toolong"}`)
		assert.Equal(t, []string{"/due", "/name", "/tags/0"}, paths(issues))
	})
}

// TestValidateAcceptsUnmarshalJSON checks the other decoder Validate
// documents: jsonschema.UnmarshalJSON.
func TestValidateAcceptsUnmarshalJSON(t *testing.T) {
	_, s := compile(t, testSchema)
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader([]byte(`{"name":"toolong"}`)))
	require.NoError(t, err)
	assert.Equal(t, []string{"/name"}, paths(s.Validate(v)))
}
