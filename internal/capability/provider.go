package capability

import (
	"context"
	"encoding/json"
	"time"
)

// Call is what a handler receives: the validated input and the tenant
// transaction it must do all its work in.
type Call struct {
	Tenant string
	Input  json.RawMessage // already validated against the input schema
	Tx     Tx
	Now    time.Time
}

// Handler executes one capability version. It returns the success output
// (without "ok", which the invoker adds) or an *Error for a business
// rejection; any other error is a bug and becomes internal.
type Handler func(ctx context.Context, c *Call) (map[string]any, error)

// Provider implements capabilities. Handlers are keyed by name@version and
// bound to manifests at start-up; a manifest without a handler, or a handler
// without a manifest, stops start-up.
type Provider interface {
	Name() string
	Handlers() map[string]Handler
}
