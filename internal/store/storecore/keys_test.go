package storecore

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestTokenFormat: a new token parses back to its prefix; anything else of
// the same shape but one character or part off does not.
func TestTokenFormat(t *testing.T) {
	prefix, token := NewToken()
	got, ok := ParseToken(token)
	require.True(t, ok, token)
	assert.Equal(t, prefix, got)
	assert.Equal(t, DisplayKey(prefix), token[:len(TokenMarker)+len(prefix)])
	assert.Len(t, HashToken(token), 32)

	_, other := NewToken()
	assert.NotEqual(t, token, other)
	for _, bad := range []string{"", token[1:], token + "a", strings.ToUpper(token), strings.Replace(token, "_", "-", 2),
		token[:len(token)-1] + "1", "cap_" + token[len(TokenMarker)-1:]} {
		_, ok := ParseToken(bad)
		assert.False(t, ok, "%q", bad)
	}
}
