// Package conformance proves that a provider instance honours capability
// contracts. Each capability version carries cases beside its manifest
// (capabilities/<name>/<version>.cases.yaml): happy paths and rejections,
// set up by calling other capabilities, so the same cases run against the
// built-in provider on a scratch copy of a tenant, or against any remote MCP
// server that claims the contracts. Rejection cases are also generated from
// each input schema. Every result is pass, fail, or error (the case could
// not be set up).
package conformance
