package invoke

import (
	"context"
	"encoding/base32"
	"encoding/binary"
	"math/rand/v2"
)

// Transports, as a call's log line names them.
const (
	TransportMCPHTTP  = "mcp-http"
	TransportMCPStdio = "mcp-stdio"
	TransportHTTPAPI  = "http-api"
)

// Request is what the transport knows of the request a call came in:
// its request id (an HTTP request's X-Request-Id, or one made up), the
// transport, and for MCP the JSON-RPC id of the tools/call. The invoker
// puts it on the call's log line, so a client's report of a failed call
// can be matched with the server's log.
type Request struct {
	ID        string
	Transport string
	RPCID     any // a JSON-RPC id as decoded: string or float64; nil when none
}

type requestKey struct{}

// WithRequest returns ctx carrying r.
func WithRequest(ctx context.Context, r Request) context.Context {
	return context.WithValue(ctx, requestKey{}, r)
}

// RequestFrom returns the request ctx carries, if any.
func RequestFrom(ctx context.Context) (Request, bool) {
	r, ok := ctx.Value(requestKey{}).(Request)
	return r, ok
}

// requestID is the id of the request ctx carries, or "".
func requestID(ctx context.Context) string {
	r, _ := RequestFrom(ctx)
	return r.ID
}

// requestIDEncoding spells ids in lower-case base32 (no padding): short,
// unambiguous and safe in a header, a log line and a file name.
var requestIDEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// NewRequestID returns a new request id: 96 random bits as 20 characters.
// It needs to be unique, not secret, so it comes from math/rand/v2 (a
// per-thread ChaCha8 seeded by the runtime) rather than a system call.
func NewRequestID() string {
	var b [12]byte
	binary.LittleEndian.PutUint64(b[:8], rand.Uint64())
	binary.LittleEndian.PutUint32(b[8:], rand.Uint32())
	return requestIDEncoding.EncodeToString(b[:])
}
