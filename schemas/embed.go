// Package schemas embeds capd's shared JSON Schemas, including the schema every capability manifest must satisfy.
package schemas

import "embed"

// FS holds every *.json file in this folder. Each file is one schema whose
// $id is "capd:schemas/<file name>", the URI manifests use to $ref it.
//
//go:embed *.json
var FS embed.FS
