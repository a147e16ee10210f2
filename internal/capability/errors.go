package capability

import (
	"errors"
	"fmt"
)

// Application error codes. They are stable: agents, the HTTP API and
// conformance cases match on them, so a code is never renamed or reused.
const (
	// Codes a capability contract may declare (business rejections).
	CodeInvalidInput      = "invalid_input"
	CodeUnknownProject    = "unknown_project"
	CodeUnknownTask       = "unknown_task"
	CodeInvalidTransition = "invalid_transition"
	CodeAlreadyExists     = "already_exists"
	CodeUnknownAction     = "unknown_action"
	CodeUnknownRun        = "unknown_run"
	CodeUnknownArtifact   = "unknown_artifact"
	CodeUnknownTaskType   = "unknown_task_type"

	// Codes that apply to every call, decided before a provider runs.
	CodeUnauthenticated   = "unauthenticated"
	CodeForbidden         = "forbidden"
	CodeNotFound          = "not_found"
	CodeUpgradeRequired   = "upgrade_required"
	CodeInternal          = "internal"
	CodeUnavailable       = "unavailable"
	CodeRequestTooLarge   = "request_too_large"
	CodeCapabilityUnknown = "unknown_capability"
	CodeRateLimited       = "rate_limited"
	CodeStorageFull       = "storage_full" // the tenant's database reached its size limit or the disk is full
	CodeConflict          = "conflict"     // an idempotency key reused with other arguments
)

// Issue is one problem with one field of an input, as a value both a person
// and an agent can act on: which field (a JSON pointer), why, and the schema
// keyword that failed when there is one.
type Issue struct {
	Path    string `json:"path"`
	Message string `json:"message"`
	Keyword string `json:"keyword,omitempty"`
}

// Error is an application error with a stable code. Message says what went
// wrong and what to do next; Issues name offending fields; Details carries
// extra, code-specific fields that become part of the rejection result
// (for example allowed_transitions on invalid_transition).
type Error struct {
	Code    string
	Message string
	Issues  []Issue
	Details map[string]any
}

func (e *Error) Error() string {
	if e.Message == "" {
		return e.Code
	}
	return e.Code + ": " + e.Message
}

// Errorf returns an application error with the given code and message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// InvalidInput returns an invalid_input error naming the offending fields.
func InvalidInput(message string, issues ...Issue) *Error {
	return &Error{Code: CodeInvalidInput, Message: message, Issues: issues}
}

// ErrorCode returns the application code of err, or internal when err is not
// an application error.
func ErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}

// AsError returns err as an application error; anything else becomes an
// internal error whose message reveals nothing about the cause.
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Code: CodeInternal, Message: "the server failed to complete the call; it was logged. Retry later, and report it if it persists."}
}

// ErrNotFound is returned by stores when a row does not exist for the tenant.
var ErrNotFound = errors.New("not found")
