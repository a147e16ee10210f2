package transfer

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCanonicalJSON holds jsonb's notion of equal JSON: key order,
// whitespace and the spelling of a number do not matter; values do.
func TestCanonicalJSON(t *testing.T) {
	same := [][]string{
		{`{"b": 1, "a": [true, null]}`, `{"a":[true,null],"b":1}`, ` { "a" : [ true , null ] , "b" : 1.0 } `},
		{`{"n": 1.50}`, `{"n":1.5}`, `{"n":15e-1}`},
		{`{"k": 1, "k": 2}`, `{"k": 2}`},
		{`"<&>"`, `"\u003c\u0026\u003e"`},
		{`[]`, ` [ ] `},
	}
	for _, group := range same {
		want, err := canonicalJSON([]byte(group[0]))
		require.NoError(t, err)
		for _, other := range group[1:] {
			got, err := canonicalJSON([]byte(other))
			require.NoError(t, err)
			assert.Equal(t, want, got, "%s vs %s", group[0], other)
		}
	}
	a, _ := canonicalJSON([]byte(`[1, 2]`))
	b, _ := canonicalJSON([]byte(`[2, 1]`))
	assert.NotEqual(t, a, b, "array order is a value")
	_, err := canonicalJSON([]byte(`{"a": 1} {}`))
	assert.Error(t, err)
}

// TestFromSQLite covers the value mappings the package documents.
func TestFromSQLite(t *testing.T) {
	v, truncated, err := fromSQLite(Time, "2025-03-04T05:06:07.123456789Z")
	require.NoError(t, err)
	assert.True(t, truncated)
	assert.Equal(t, time.Date(2025, 3, 4, 5, 6, 7, 123456000, time.UTC), v)
	_, truncated, err = fromSQLite(Time, "2025-03-04T05:06:07.123456000Z")
	require.NoError(t, err)
	assert.False(t, truncated, "trailing zeros lose nothing")
	v, _, err = fromSQLite(Time, "2025-03-04T07:06:07.5+02:00")
	require.NoError(t, err)
	assert.Equal(t, time.Date(2025, 3, 4, 5, 6, 7, 500000000, time.UTC), v, "an offset becomes UTC")
	_, _, err = fromSQLite(Time, "yesterday")
	assert.ErrorContains(t, err, "not RFC 3339")

	v, _, _ = fromSQLite(OptTime, "0001-01-01T00:00:00.000000000Z")
	assert.Nil(t, v, "the zero time is 'never'")
	v, _, _ = fromSQLite(OptText, "")
	assert.Nil(t, v, "optional '' is NULL")
	v, _, _ = fromSQLite(Text, "")
	assert.Equal(t, "", v, "required '' is a value")
	v, _, _ = fromSQLite(Int, int64(-1500))
	assert.Equal(t, int64(-1500), v)
	v, _, _ = fromSQLite(Bool, int64(1))
	assert.Equal(t, true, v)
	_, _, err = fromSQLite(Bool, int64(2))
	assert.Error(t, err)
	v, _, _ = fromSQLite(Bytes, []byte(nil))
	assert.Equal(t, []byte{}, v, "an empty BLOB is empty, not NULL")
	v, _, _ = fromSQLite(Scopes, "projects.read,,projects.write")
	assert.Equal(t, []string{"projects.read", "projects.write"}, v)
	v, _, _ = fromSQLite(Pins, "b@1.0.0,a@2.0.0")
	assert.Equal(t, []string{"a@2.0.0", "b@1.0.0"}, v)
	v, _, _ = fromSQLite(Pins, "")
	assert.Equal(t, []string{}, v)
	_, _, err = fromSQLite(Pins, "a@1,a@2")
	assert.ErrorContains(t, err, "pinned twice")
	_, _, err = fromSQLite(Date, "2025-02-30")
	assert.Error(t, err)

	pg, err := toPostgres(Pins, []string{"a@2.0.0", "b@1.0.0"})
	require.NoError(t, err)
	assert.JSONEq(t, `{"a":"2.0.0","b":"1.0.0"}`, pg.(string))
	_, err = toPostgres(Text, "nul \x00")
	assert.ErrorContains(t, err, "NUL")
	_, err = toPostgres(Text, "bad \xff")
	assert.ErrorContains(t, err, "UTF-8")
}

// TestEncodeValueIsUnambiguous: rows that differ encode differently, even
// where a naive concatenation would not.
func TestEncodeValueIsUnambiguous(t *testing.T) {
	row := func(kinds []Kind, vals ...any) string {
		var b []byte
		for i, k := range kinds {
			b = encodeValue(b, k, vals[i])
		}
		return string(b)
	}
	tt := []Kind{Text, Text}
	assert.NotEqual(t, row(tt, "ab", "c"), row(tt, "a", "bc"))
	assert.NotEqual(t, row(tt, "", "x"), row(tt, nil, "x"), "'' and NULL of required text differ")
	assert.NotEqual(t, row([]Kind{Scopes}, []string{"a,b"}), row([]Kind{Scopes}, []string{"a", "b"}))
	assert.NotEqual(t, row([]Kind{Int}, int64(-1)), row([]Kind{Int}, int64(1)))
	assert.NotEqual(t, row([]Kind{Bytes}, []byte{}), row([]Kind{Bytes}, nil))
}
