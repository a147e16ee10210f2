// Package httpapi is capd's HTTP transport apart from MCP: the guard every
// authenticated endpoint sits behind (Origin, body size, bearer key, rate
// limit), the JSON API over the catalog and conformance results, and the
// HTTP tool API, which calls capabilities through the same invoker as MCP.
// Every error is the canonical envelope, mapped from application error
// codes in one table (envelope.go).
package httpapi
