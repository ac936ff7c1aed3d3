package openapi

import (
	"encoding/json"
	"testing"
)

// TestSpec checks that the embedded document is the merged one: every
// service's routes in one file, with the API key scheme partners authenticate
// with.
func TestSpec(t *testing.T) {
	var doc struct {
		Swagger             string                     `json:"swagger"`
		Paths               map[string]json.RawMessage `json:"paths"`
		SecurityDefinitions map[string]struct {
			Type string `json:"type"`
			Name string `json:"name"`
			In   string `json:"in"`
		} `json:"securityDefinitions"`
	}
	if err := json.Unmarshal(Spec, &doc); err != nil {
		t.Fatalf("Spec is not JSON: %v", err)
	}
	if doc.Swagger != "2.0" {
		t.Errorf("swagger = %q, want 2.0", doc.Swagger)
	}
	key := doc.SecurityDefinitions["ApiKeyAuth"]
	if key.Type != "apiKey" || key.In != "header" || key.Name != "X-Api-Key" {
		t.Errorf("ApiKeyAuth = %+v, want an apiKey in header X-Api-Key", key)
	}
	for _, path := range []string{
		"/v1/items/{item}",
		"/v1/warehouses/{warehouse}/locations/{location}",
		"/v1/suppliers",
		"/v1/catalogItems/{catalogItem}",
		"/v1/carriers",
		"/v1/accounts/{account}",
	} {
		if _, ok := doc.Paths[path]; !ok {
			t.Errorf("path %s missing from Spec", path)
		}
	}
}
