package main

import (
	"context"
	"errors"
)

// runAudit is implemented with the item-master audit.
func runAudit(ctx context.Context, args []string) error {
	return errors.New("trueup audit: not implemented yet")
}
