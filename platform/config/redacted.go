package config

import "log/slog"

// redactedText is what every rendering of a Redacted shows.
const redactedText = "[redacted]"

// Redacted holds a secret. Printing it with fmt, logging it with slog or
// marshalling it to JSON shows "[redacted]", so a config struct can be logged
// whole at start-up; call Reveal where the secret is actually used.
type Redacted string

// Reveal returns the secret itself. Keep calls to it few and easy to grep.
func (r Redacted) Reveal() string { return string(r) }

// String hides the value from fmt's %s and %v.
func (r Redacted) String() string { return redactedText }

// GoString hides the value from fmt's %#v.
func (r Redacted) GoString() string { return `config.Redacted("` + redactedText + `")` }

// LogValue hides the value from slog.
func (r Redacted) LogValue() slog.Value { return slog.StringValue(redactedText) }

// MarshalText hides the value from encoding/json and other text encoders.
func (r Redacted) MarshalText() ([]byte, error) { return []byte(redactedText), nil }

// secretValue is the flag.Value behind Secret.
type secretValue Redacted

// String shows whether a secret is set, never what it is; the empty result for an
// unset secret also keeps flag.PrintDefaults from printing a default.
func (s *secretValue) String() string {
	if s == nil || *s == "" {
		return ""
	}
	return redactedText
}

// Set stores the secret.
func (s *secretValue) Set(v string) error {
	*s = secretValue(v)
	return nil
}

// Get implements flag.Getter; it returns the Redacted, still hidden when printed.
func (s *secretValue) Get() any { return Redacted(*s) }
