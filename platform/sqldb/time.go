package sqldb

import "time"

// Now is the current time in the form every timestamp column stores: UTC,
// truncated to the microsecond PostgreSQL keeps, without a monotonic reading.
// Using it on both dialects makes a value read back equal the value written.
func Now() time.Time { return Timestamp(time.Now()) }

// Timestamp puts t into the stored form (see Now). The zero time stays zero.
func Timestamp(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.Round(0).UTC().Truncate(time.Microsecond)
}
