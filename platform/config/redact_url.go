package config

import (
	"net/url"
	"regexp"
	"strings"
)

// redactedURLText replaces a secret inside a URL or DSN; it is what url.URL's
// Redacted and pgx show, so every rendering of a DSN looks the same.
const redactedURLText = "xxxxx"

// secretParams are the query and keyword names whose values are secrets: the
// libpq/pgx password parameters, and the usual token names of other URLs.
var secretParams = map[string]bool{
	"password": true, "sslpassword": true, "pass": true, "pwd": true,
	"token": true, "access_token": true, "secret": true, "api_key": true, "apikey": true,
}

// keywordSecret finds "password=…" (and the other secretParams) in a libpq
// keyword/value DSN, a value being single-quoted (with \' escapes) or running
// to the next space.
var keywordSecret = regexp.MustCompile(`(?i)(^|[\s;])(password|sslpassword|pass|pwd|token|access_token|secret|api_key|apikey)(\s*=\s*)('(?:[^'\\]|\\.)*'?|[^\s;]*)`)

// RedactURL returns a database URL or DSN (or any URL) fit to print in a log
// line or an error: the password of "user:pass@" and the values of password,
// sslpassword and other secret query parameters are replaced by "xxxxx", in
// URL form ("postgres://u:p@h/db?password=p") and keyword/value form
// ("host=h password=p"). A URL that does not parse is shown as its scheme
// alone: its secrets cannot be found, so nothing else of it is shown.
func RedactURL(s string) string {
	scheme, _, isURL := strings.Cut(s, "://")
	if !isURL {
		return keywordSecret.ReplaceAllString(s, "${1}${2}${3}"+redactedURLText)
	}
	u, err := url.Parse(s)
	if err != nil {
		if !validScheme.MatchString(scheme) {
			return redactedURLText
		}
		return scheme + "://" + redactedURLText
	}
	if u.User != nil {
		if _, ok := u.User.Password(); ok {
			u.User = url.UserPassword(u.User.Username(), redactedURLText)
		}
	}
	u.RawQuery = redactQuery(u.RawQuery)
	return u.String()
}

// validScheme is what RFC 3986 allows in a scheme, kept short.
var validScheme = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.-]{0,19}$`)

// redactQuery replaces the values of secret parameters in a raw query, keeping
// the order and encoding of everything else as given.
func redactQuery(raw string) string {
	if raw == "" {
		return raw
	}
	parts := strings.Split(raw, "&")
	for i, p := range parts {
		k, _, hasValue := strings.Cut(p, "=")
		name, err := url.QueryUnescape(k)
		if err != nil {
			name = k
		}
		if hasValue && secretParams[strings.ToLower(name)] {
			parts[i] = k + "=" + redactedURLText
		}
	}
	return strings.Join(parts, "&")
}
