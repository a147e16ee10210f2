package storecore

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"strings"
)

// An API key token is "capd_" + prefix + "_" + secret, for example
// capd_k3x9m2ab_<52 characters>. The prefix is public: it identifies the key
// in lists, logs and revocation. The secret is 256 bits from crypto/rand.
// Both use lowercase base32, so a token survives copy and paste, URLs and
// case-folding terminals, and "capd_" lets secret scanners recognise leaks.
const (
	TokenMarker = "capd_"
	prefixBytes = 5  // 40 bits: 8 base32 characters
	secretBytes = 32 // 256 bits: 52 base32 characters
	prefixLen   = 8
	secretLen   = 52
	tokenLen    = len(TokenMarker) + prefixLen + 1 + secretLen
	// MaxKeyTries bounds retries on a prefix collision: at 40 bits they
	// are rare, and a few tries are plenty.
	MaxKeyTries = 5
	// InvalidToken is the one message for every token that does not
	// authenticate, so the answer reveals nothing about real keys.
	InvalidToken = "invalid API key"
)

// keyEncoding is lowercase, unpadded base32 (RFC 4648 alphabet).
var keyEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// NewToken returns a fresh token and its public prefix.
func NewToken() (prefix, token string) {
	prefix = randomString(prefixBytes)
	return prefix, TokenMarker + prefix + "_" + randomString(secretBytes)
}

// HashToken returns the stored form of a token. A fast hash is right here,
// unlike for passwords: the secret has 256 bits of entropy, so no amount of
// hashing speed makes guessing it feasible, and authentication runs on
// every request.
func HashToken(token string) []byte {
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}

// randomString returns n random bytes in keyEncoding.
func randomString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails; it crashes the program instead
	return keyEncoding.EncodeToString(b)
}

// ParseToken returns the prefix of a well-formed token.
func ParseToken(token string) (prefix string, ok bool) {
	if len(token) != tokenLen || !strings.HasPrefix(token, TokenMarker) {
		return "", false
	}
	prefix, secret, ok := strings.Cut(token[len(TokenMarker):], "_")
	if !ok || len(prefix) != prefixLen || len(secret) != secretLen || !isKeyText(prefix) || !isKeyText(secret) {
		return "", false
	}
	return prefix, true
}

// isKeyText reports whether s uses only keyEncoding's alphabet.
func isKeyText(s string) bool {
	for _, r := range s {
		if !('a' <= r && r <= 'z' || '2' <= r && r <= '7') {
			return false
		}
	}
	return true
}

// DisplayKey is how a key is named to people: its token without the secret.
func DisplayKey(prefix string) string { return TokenMarker + prefix }
