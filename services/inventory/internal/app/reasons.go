package app

import (
	"context"
	"errors"

	"trueup.dev/platform/apperr"
	"trueup.dev/platform/paging"
	"trueup.dev/platform/storetx"
	"trueup.dev/services/inventory/internal/inventory"
)

// CreateReasonCode adds a reason code to the master data.
func (s *Service) CreateReasonCode(ctx context.Context, requestID string, in inventory.ReasonCode) (*inventory.ReasonCode, error) {
	rc, err := inventory.NewReasonCode(in, s.now())
	if err != nil {
		return nil, err
	}
	return storetx.RunCommand(ctx, s.store.InTx, "CreateReasonCode", requestID, in,
		func(tx Tx, code string) (*inventory.ReasonCode, error) { return tx.GetReasonCode(ctx, code) },
		func(tx Tx) (*inventory.ReasonCode, string, error) {
			if err := tx.InsertReasonCode(ctx, rc); err != nil {
				return nil, "", err
			}
			return rc, rc.Code, nil
		})
}

// ReasonCodeUpdate changes the Fields of a reason code (update_mask paths:
// "description", "active") to their Values.
type ReasonCodeUpdate struct {
	Fields []string
	Values inventory.ReasonCode
}

// UpdateReasonCode changes a reason code's description or retires (or
// reactivates) it; stock commands refuse an inactive code. It emits no event,
// as CreateReasonCode emits none: reason codes are read where they are used.
func (s *Service) UpdateReasonCode(ctx context.Context, requestID, code string, u ReasonCodeUpdate) (*inventory.ReasonCode, error) {
	c, err := inventory.NormalizeReason(code)
	if err != nil {
		return nil, apperr.NotFound("reason code", code)
	}
	if _, err := inventory.UpdateReasonCode(inventory.ReasonCode{Code: c}, u.Fields, u.Values); err != nil {
		return nil, err
	}
	payload := struct {
		Code string
		U    ReasonCodeUpdate
	}{c, u}
	return storetx.RunCommand(ctx, s.store.InTx, "UpdateReasonCode", requestID, payload,
		func(tx Tx, code string) (*inventory.ReasonCode, error) { return tx.GetReasonCode(ctx, code) },
		func(tx Tx) (*inventory.ReasonCode, string, error) {
			cur, err := tx.LockReasonCode(ctx, c)
			if err != nil {
				return nil, "", err
			}
			rc, err := inventory.UpdateReasonCode(*cur, u.Fields, u.Values)
			if err != nil {
				return nil, "", err
			}
			if err := tx.UpdateReasonCode(ctx, rc); err != nil {
				return nil, "", err
			}
			return rc, rc.Code, nil
		})
}

// GetReasonCode returns one reason code.
func (s *Service) GetReasonCode(ctx context.Context, code string) (*inventory.ReasonCode, error) {
	c, err := inventory.NormalizeReason(code)
	if err != nil {
		return nil, apperr.NotFound("reason code", code)
	}
	return s.store.GetReasonCode(ctx, c)
}

// ListReasonCodes pages through reason codes in code order.
func (s *Service) ListReasonCodes(ctx context.Context, page paging.Page) ([]*inventory.ReasonCode, error) {
	return s.store.ListReasonCodes(ctx, page)
}

// reasonFor checks that code names an active reason code and returns it
// (nil, with a violation on field, when it does not).
func reasonFor(ctx context.Context, tx Tx, code, field string, v *apperr.Violations) (*inventory.ReasonCode, error) {
	norm, err := inventory.NormalizeReason(code)
	if err != nil {
		v.Add(field, err.Error())
		return nil, nil
	}
	rc, err := tx.GetReasonCode(ctx, norm)
	if errors.Is(err, apperr.ErrNotFound) {
		rc, err = nil, nil
	}
	if err != nil {
		return nil, err
	}
	inventory.CheckUsable(norm, rc, field, v)
	if rc == nil || !rc.Active {
		return nil, nil
	}
	return rc, nil
}

// setReason stamps a movement with its reason code and category.
func setReason(m *inventory.Movement, rc *inventory.ReasonCode) {
	if rc != nil {
		m.ReasonCode, m.ReasonCategory = rc.Code, rc.Category
	}
}
