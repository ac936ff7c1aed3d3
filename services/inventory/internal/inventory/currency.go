package inventory

import (
	"fmt"

	"trueup.dev/platform/money"
)

// NormalizeCurrency trims and upper-cases a currency code and refuses one
// that is not an active ISO 4217 currency, so a typo such as "UDS" never
// becomes the currency an item is valued in. The error is a description for
// a field violation.
func NormalizeCurrency(code string) (string, error) {
	c, err := money.NormalizeCurrency(code)
	if err != nil {
		return "", err
	}
	if !money.Known(c) {
		return "", fmt.Errorf("%s is not an ISO 4217 currency code (e.g. USD, EUR, JPY)", c)
	}
	return c, nil
}
