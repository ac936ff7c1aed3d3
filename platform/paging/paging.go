// Package paging implements AIP-158 list pagination: page_size with a default and a
// maximum, and an opaque page_token that carries the last key of the previous page
// (keyset pagination, so a page never skips or repeats a row when rows are added).
package paging

import (
	"encoding/base64"
	"encoding/json"

	"trueup.dev/platform/apperr"
)

const (
	// DefaultSize is the page size when the client asks for none.
	DefaultSize = 50
	// MaxSize caps a page; larger requests are clamped, not refused (AIP-158).
	MaxSize = 1000
)

// Page is a parsed list request: fetch up to Limit rows with key > After.
type Page struct {
	Limit int
	After string
	// Filter fingerprints the request's other parameters, so a token is not
	// reused with a different filter.
	Filter string
}

type token struct {
	After  string `json:"a"`
	Filter string `json:"f,omitempty"`
}

// Parse reads page_size and page_token. filter is whatever else shapes the list
// (parent, filter string); a token minted for another filter is refused.
func Parse(pageSize int32, pageToken, filter string) (Page, error) {
	p := Page{Limit: int(pageSize), Filter: filter}
	switch {
	case pageSize < 0:
		return Page{}, apperr.Invalid(apperr.Field("page_size", "must not be negative"))
	case pageSize == 0:
		p.Limit = DefaultSize
	case pageSize > MaxSize:
		p.Limit = MaxSize
	}
	if pageToken == "" {
		return p, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(pageToken)
	var t token
	if err == nil {
		err = json.Unmarshal(raw, &t)
	}
	if err != nil || t.Filter != filter {
		return Page{}, apperr.Invalid(apperr.Field("page_token", "is not a token returned by this list call"))
	}
	p.After = t.After
	return p, nil
}

// Next returns the token for the page after one that ended at lastKey, or "" when
// the page was not full (there is nothing after it).
func (p Page) Next(got int, lastKey string) string {
	if got < p.Limit || lastKey == "" {
		return ""
	}
	raw, _ := json.Marshal(token{After: lastKey, Filter: p.Filter})
	return base64.RawURLEncoding.EncodeToString(raw)
}
