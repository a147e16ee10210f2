package invoke

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"unicode"

	"github.com/capd-dev/capd/internal/capability"
)

type idempotencyKey struct{}

// MaxIdempotencyKey is the longest idempotency key accepted.
const MaxIdempotencyKey = 255

// WithIdempotencyKey returns ctx carrying the caller's idempotency key for
// the call: a retry with the same key and arguments within 24 h gets the
// first result again instead of writing twice.
func WithIdempotencyKey(ctx context.Context, key string) context.Context {
	return context.WithValue(ctx, idempotencyKey{}, key)
}

func idempotencyKeyFrom(ctx context.Context) string {
	k, _ := ctx.Value(idempotencyKey{}).(string)
	return k
}

// checkIdempotencyKey refuses keys that are empty-looking, too long or not
// printable, with a message that says what a key may be.
func checkIdempotencyKey(key string) *capability.Error {
	if len(key) > MaxIdempotencyKey {
		return capability.InvalidInput("idempotency key is longer than 255 bytes; use a UUID or another short unique string")
	}
	for _, r := range key {
		if !unicode.IsPrint(r) || unicode.IsSpace(r) {
			return capability.InvalidInput("idempotency key must be printable, without spaces; use a UUID or another short unique string")
		}
	}
	return nil
}

// argsHash identifies what a key was first used for: the capability
// version and its arguments in canonical form, so a retry that sends the
// same arguments in another key order still matches.
func argsHash(ref string, args json.RawMessage) string {
	var v any
	canonical := args
	if json.Unmarshal(args, &v) == nil {
		if b, err := json.Marshal(v); err == nil {
			canonical = b
		}
	}
	h := sha256.New()
	h.Write([]byte(ref))
	h.Write([]byte{0})
	h.Write(canonical)
	return hex.EncodeToString(h.Sum(nil))
}
