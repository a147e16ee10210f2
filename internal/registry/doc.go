// Package registry loads capability manifests, checks them against the
// manifest schema and against each other, compiles their schemas, binds each
// version to exactly one provider handler, and resolves references such as
// "projects.create_task" or "projects.create_task@0.1.0".
package registry
