// Package openapi holds the OpenAPI v2 document of Trueup's partner REST API,
// generated from the protos in api/proto by scripts/generate.sh and embedded so
// that the gateway can serve the very document its routes were generated with.
package openapi

import _ "embed"

// Spec is the merged OpenAPI v2 (Swagger) document, as JSON, for every REST
// route the gateway exposes under /v1. Treat it as read-only: it is shared by
// every caller.
//
//go:embed trueup.swagger.json
var Spec []byte
