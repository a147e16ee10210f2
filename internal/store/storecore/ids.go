package storecore

import (
	"encoding/hex"

	"github.com/google/uuid"
)

// ID prefixes name what an id identifies.
const (
	PrefixProject  = "prj"
	PrefixTask     = "tsk"
	PrefixStaff    = "stf"
	PrefixAction   = "act"
	PrefixRun      = "run"
	PrefixArtifact = "art"
)

// NewID returns prefix + "_" + a UUIDv7 as 32 lowercase hex digits. UUIDv7
// starts with the time in milliseconds and is monotonic within a process, so
// IDs sort by creation: list queries can page with "id > after" and stay
// stable under concurrent inserts. Hex without dashes keeps the ID one word
// for double-click selection and URLs. Every engine uses this form, so data
// moves between them unchanged.
func NewID(prefix string) string {
	u := uuid.Must(uuid.NewV7())
	return prefix + "_" + hex.EncodeToString(u[:])
}

// Defaults a store applies when a caller leaves a value zero.
const (
	DefaultPageLimit           = 25
	DefaultRunLogLimit         = 100
	DefaultArtifactContentType = "application/octet-stream"
)
