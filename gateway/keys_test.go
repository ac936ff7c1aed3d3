package gateway

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestParseKeys(t *testing.T) {
	tests := []struct {
		name, in string
		wantErr  string
		wantLen  int
	}{
		{"ok with comments", "# partners\n\nacme  key-acme-0123456789abcdefghij\nglobex key-globex-0123456789abcdefgh\n", "", 2},
		{"short key", "acme short\n", "shorter than 24", 0},
		{"missing key", "acme\n", "want", 0},
		{"duplicate key", "a key-0123456789abcdefghijklmn\nb key-0123456789abcdefghijklmn\n", "twice", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := ParseKeys(strings.NewReader(tt.in))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || k.Len() != tt.wantLen {
				t.Fatalf("ParseKeys = %v keys, %v", k, err)
			}
		})
	}
}

func TestMiddleware(t *testing.T) {
	keys, err := ParseKeys(strings.NewReader("acme key-acme-0123456789abcdefghij\n"))
	if err != nil {
		t.Fatal(err)
	}
	var seen string
	h := keys.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := PartnerFrom(r.Context())
		seen = p.ID
	}))
	tests := []struct {
		name   string
		header map[string]string
		want   int
	}{
		{"no key", nil, http.StatusUnauthorized},
		{"unknown key", map[string]string{"X-Api-Key": "key-nobody-0123456789abcdefgh"}, http.StatusUnauthorized},
		{"basic auth is not a key", map[string]string{"Authorization": "Basic a2V5"}, http.StatusUnauthorized},
		{"x-api-key", map[string]string{"X-Api-Key": "key-acme-0123456789abcdefghij"}, http.StatusOK},
		{"bearer", map[string]string{"Authorization": "Bearer key-acme-0123456789abcdefghij"}, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seen = ""
			req := httptest.NewRequest("GET", "/v1/items", nil)
			for k, v := range tt.header {
				req.Header.Set(k, v)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tt.want {
				t.Fatalf("status = %d, want %d", rec.Code, tt.want)
			}
			if tt.want == http.StatusOK && seen != "acme" {
				t.Fatalf("partner = %q, want acme", seen)
			}
			if tt.want == http.StatusUnauthorized {
				if seen != "" {
					t.Fatal("handler ran without a valid key")
				}
				if !strings.Contains(rec.Body.String(), `"code":16`) || rec.Header().Get("WWW-Authenticate") == "" {
					t.Fatalf("401 body/header = %s %v", rec.Body.String(), rec.Header())
				}
			}
		})
	}
}
