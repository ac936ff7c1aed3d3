package fulfillment

import (
	"errors"
	"strings"
	"testing"
	"time"

	"trueup.dev/platform/apperr"
)

var t0 = time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)

func TestNewCarrier(t *testing.T) {
	tests := []struct {
		name string
		in   Carrier
		want Carrier // when valid
		bad  []string
	}{
		{
			name: "normalised, no tracking",
			in:   Carrier{Code: " dhl-x ", DisplayName: " DHL Express "},
			want: Carrier{Code: "DHL-X", DisplayName: "DHL Express", CreatedAt: t0},
		},
		{
			name: "tracking in query",
			in:   Carrier{Code: "UPS", DisplayName: "UPS", TrackingURLTemplate: " https://track.example.com/?n={tracking_number} "},
			want: Carrier{Code: "UPS", DisplayName: "UPS", TrackingURLTemplate: "https://track.example.com/?n={tracking_number}", CreatedAt: t0},
		},
		{
			name: "tracking in path",
			in:   Carrier{Code: "GLS", DisplayName: "GLS", TrackingURLTemplate: "https://gls.example/track/{tracking_number}/details"},
			want: Carrier{Code: "GLS", DisplayName: "GLS", TrackingURLTemplate: "https://gls.example/track/{tracking_number}/details", CreatedAt: t0},
		},
		{name: "empty", in: Carrier{}, bad: []string{"carrier.code", "carrier.display_name"}},
		{name: "code too long", in: Carrier{Code: strings.Repeat("C", 33), DisplayName: "x"}, bad: []string{"carrier.code"}},
		{name: "code with slash", in: Carrier{Code: "A/B", DisplayName: "x"}, bad: []string{"carrier.code"}},
		{name: "name too long", in: Carrier{Code: "C", DisplayName: strings.Repeat("n", 101)}, bad: []string{"carrier.display_name"}},
		{name: "http, not https", in: Carrier{Code: "C", DisplayName: "x", TrackingURLTemplate: "http://t.example/{tracking_number}"}, bad: []string{"carrier.tracking_url_template"}},
		{name: "no placeholder", in: Carrier{Code: "C", DisplayName: "x", TrackingURLTemplate: "https://t.example/track"}, bad: []string{"carrier.tracking_url_template"}},
		{name: "misspelt placeholder", in: Carrier{Code: "C", DisplayName: "x", TrackingURLTemplate: "https://t.example/{tracking}"}, bad: []string{"carrier.tracking_url_template"}},
		{name: "not a URL", in: Carrier{Code: "C", DisplayName: "x", TrackingURLTemplate: "track {tracking_number}"}, bad: []string{"carrier.tracking_url_template"}},
		{name: "no host", in: Carrier{Code: "C", DisplayName: "x", TrackingURLTemplate: "https:///{tracking_number}"}, bad: []string{"carrier.tracking_url_template"}},
		{name: "placeholder in host", in: Carrier{Code: "C", DisplayName: "x", TrackingURLTemplate: "https://{tracking_number}.example.com/"}, bad: []string{"carrier.tracking_url_template"}},
		{name: "user info", in: Carrier{Code: "C", DisplayName: "x", TrackingURLTemplate: "https://u:p@t.example/{tracking_number}"}, bad: []string{"carrier.tracking_url_template"}},
		{name: "too long", in: Carrier{Code: "C", DisplayName: "x", TrackingURLTemplate: "https://t.example/" + strings.Repeat("a", 480) + "{tracking_number}"}, bad: []string{"carrier.tracking_url_template"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := NewCarrier(tt.in, t0)
			if len(tt.bad) == 0 {
				if err != nil {
					t.Fatalf("NewCarrier: %v", err)
				}
				if *got != tt.want {
					t.Errorf("NewCarrier = %+v, want %+v", *got, tt.want)
				}
				return
			}
			var e *apperr.Error
			if !errors.As(err, &e) || e.Kind != apperr.KindInvalidArgument {
				t.Fatalf("err = %v, want InvalidArgument", err)
			}
			got2 := map[string]bool{}
			for _, v := range e.Violations {
				got2[v.Field] = true
			}
			for _, f := range tt.bad {
				if !got2[f] {
					t.Errorf("no violation on %s; got %+v", f, e.Violations)
				}
			}
			if len(got2) != len(tt.bad) {
				t.Errorf("violations %+v, want only %v", e.Violations, tt.bad)
			}
		})
	}
}

func TestCarrierTrackingURL(t *testing.T) {
	tests := []struct {
		tmpl, number, want string
	}{
		{"", "123", ""},
		{"https://t.example/?n={tracking_number}", "1Z 99&x", "https://t.example/?n=1Z+99%26x"},
		{"https://t.example/track/{tracking_number}", "AB/12", "https://t.example/track/AB%2F12"},
		{"https://t.example/#{tracking_number}", "a b", "https://t.example/#a%20b"},
		{"https://t.example/track/{tracking_number}?lang=en", "x&y", "https://t.example/track/x&y?lang=en"},
	}
	for _, tt := range tests {
		c := &Carrier{TrackingURLTemplate: tt.tmpl}
		if got := c.TrackingURL(tt.number); got != tt.want {
			t.Errorf("TrackingURL(%q) with %q = %q, want %q", tt.number, tt.tmpl, got, tt.want)
		}
	}
}
