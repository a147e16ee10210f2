// Package capabilities embeds capd's capability manifests: one YAML file per
// published version, at <name>/<version>.yaml (for example
// projects.create_task/0.1.0.yaml).
package capabilities

import "embed"

// FS holds every manifest as <name>/<version>.yaml. A published version is
// immutable: a change to a contract is a new file with a new version.
//
//go:embed */*.yaml contracts.lock
var FS embed.FS
