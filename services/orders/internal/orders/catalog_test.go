package orders

import "testing"

func TestNewCatalogItem(t *testing.T) {
	tests := []struct {
		name string
		in   CatalogItem
		bad  []string
	}{
		{name: "valid", in: CatalogItem{SKU: " abc-1", Description: "Widget", BaseUoM: "EA", SourceVersion: 1}},
		{name: "no sku", in: CatalogItem{SourceVersion: 1}, bad: []string{"item.sku"}},
		{name: "no version", in: CatalogItem{SKU: "A"}, bad: []string{"aggregate_version"}},
		{name: "negative version", in: CatalogItem{SKU: "A", SourceVersion: -1}, bad: []string{"aggregate_version"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := NewCatalogItem(tt.in, t0)
			if len(tt.bad) > 0 {
				assertViolations(t, err, tt.bad)
				return
			}
			if err != nil {
				t.Fatalf("NewCatalogItem: %v", err)
			}
			if got.SKU != "ABC-1" || !got.UpdatedAt.Equal(t0) {
				t.Errorf("NewCatalogItem = %+v", got)
			}
		})
	}
}

func TestCatalogItemSupersedes(t *testing.T) {
	tests := []struct {
		name     string
		incoming int64
		held     *CatalogItem
		want     bool
	}{
		{"nothing held", 1, nil, true},
		{"newer", 3, &CatalogItem{SourceVersion: 2}, true},
		{"same version (replay)", 2, &CatalogItem{SourceVersion: 2}, false},
		{"older (out of order)", 1, &CatalogItem{SourceVersion: 2}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &CatalogItem{SourceVersion: tt.incoming}
			if got := c.Supersedes(tt.held); got != tt.want {
				t.Errorf("Supersedes = %v, want %v", got, tt.want)
			}
		})
	}
}
