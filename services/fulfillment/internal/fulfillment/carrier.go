// Package fulfillment is the fulfillment domain, the warehouse-floor side of
// Trueup: for now the carriers that ship outbound orders. It knows nothing of
// gRPC, SQL or JSON.
package fulfillment

import (
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"trueup.dev/platform/apperr"
)

// TrackingNumberPlaceholder marks where a shipment's tracking number goes in a
// carrier's tracking URL template.
const TrackingNumberPlaceholder = "{tracking_number}"

// Limits on a carrier's text fields, in characters.
const (
	MaxDisplayNameLength = 100
	MaxTrackingURLLength = 500
)

// Carrier is a parcel service or haulier that ships outbound orders.
type Carrier struct {
	Code        string
	DisplayName string
	// TrackingURLTemplate is an https URL with TrackingNumberPlaceholder in it, or
	// empty when the carrier has no tracking page.
	TrackingURLTemplate string
	CreatedAt           time.Time
}

var carrierCodePattern = regexp.MustCompile(`^[A-Z0-9][A-Z0-9_-]{0,31}$`)

// NormalizeCode trims and upper-cases a carrier code, so "dhl " and "DHL" are one carrier.
func NormalizeCode(s string) string { return strings.ToUpper(strings.TrimSpace(s)) }

// NewCarrier validates and normalises a new carrier. Every violation is reported
// at once, each on its field ("carrier.code", ...).
func NewCarrier(c Carrier, now time.Time) (*Carrier, error) {
	var v apperr.Violations
	c.Code = NormalizeCode(c.Code)
	if !carrierCodePattern.MatchString(c.Code) {
		v.Add("carrier.code", "is required: 1-32 characters of A-Z, 0-9, '_' or '-', starting with a letter or digit")
	}
	c.DisplayName = strings.TrimSpace(c.DisplayName)
	if c.DisplayName == "" || utf8.RuneCountInString(c.DisplayName) > MaxDisplayNameLength {
		v.Add("carrier.display_name", "is required, at most 100 characters")
	}
	c.TrackingURLTemplate = strings.TrimSpace(c.TrackingURLTemplate)
	if c.TrackingURLTemplate != "" {
		if msg := checkTrackingURLTemplate(c.TrackingURLTemplate); msg != "" {
			v.Add("carrier.tracking_url_template", msg)
		}
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	c.CreatedAt = now.UTC()
	return &c, nil
}

// checkTrackingURLTemplate returns what is wrong with a non-empty template, or "".
// The URL is checked with a sample number in the placeholder's place, so the
// braces themselves cannot upset the parser, and the placeholder may sit only in
// the path, query or fragment: a number in the host would send customers to
// whatever domain the number spells.
func checkTrackingURLTemplate(tmpl string) string {
	const want = "must be an https URL (at most 500 characters) containing " + TrackingNumberPlaceholder +
		`, e.g. "https://track.example.com/?n=` + TrackingNumberPlaceholder + `"`
	if utf8.RuneCountInString(tmpl) > MaxTrackingURLLength || !strings.Contains(tmpl, TrackingNumberPlaceholder) {
		return want
	}
	u, err := url.Parse(strings.ReplaceAll(tmpl, TrackingNumberPlaceholder, "0"))
	if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil {
		return want
	}
	bare, err := url.Parse(strings.ReplaceAll(tmpl, TrackingNumberPlaceholder, ""))
	if err != nil || bare.Host != u.Host {
		return "must not put " + TrackingNumberPlaceholder + " in the host name"
	}
	return ""
}

// TrackingURL is the carrier's tracking page for one shipment, or "" when the
// carrier has no template. The number is escaped for where the placeholder
// sits, so a number with '/', '&' or spaces cannot change the URL's shape.
func (c *Carrier) TrackingURL(trackingNumber string) string {
	if c.TrackingURLTemplate == "" {
		return ""
	}
	escape := url.PathEscape
	p := strings.Index(c.TrackingURLTemplate, TrackingNumberPlaceholder)
	q, h := strings.Index(c.TrackingURLTemplate, "?"), strings.Index(c.TrackingURLTemplate, "#")
	if q >= 0 && q < p && (h < 0 || p < h) {
		escape = url.QueryEscape // in the query: '&' and '=' must be escaped too
	}
	return strings.ReplaceAll(c.TrackingURLTemplate, TrackingNumberPlaceholder, escape(trackingNumber))
}
