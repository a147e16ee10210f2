// Package schema is the one place in capd that talks to the JSON Schema
// engine (santhosh-tekuri/jsonschema/v6): it compiles schemas once, with
// format assertions on, validates already-decoded values, turns engine
// errors into issues an agent can act on, and bundles shared schemas into a
// self-contained document for clients that cannot resolve capd's $refs.
package schema
