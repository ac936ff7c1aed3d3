package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/big"
	"sort"
	"strings"

	"trueup.dev/platform/apperr"
	"trueup.dev/platform/caller"
	"trueup.dev/platform/qty"
	"trueup.dev/platform/storetx"
	"trueup.dev/services/fulfillment/internal/fulfillment"
)

// NoticeInput is a shipping notice as the caller sends it: items by any
// code, quantities in any unit.
type NoticeInput struct {
	Warehouse, PurchaseOrder, Supplier, Reference, ExpectedDate string
	Cartons                                                     int
	Lines                                                       []NoticeLineInput
}

// NoticeLineInput is one line as sent.
type NoticeLineInput struct {
	POLine        int
	Item          string
	Quantity, UoM string
	Lot, Expiry   string
	UnitCost      fulfillment.UnitCost
}

// CreateExpectedReceipt records a partner's or supplier's shipping notice
// as an expected receipt of its own, its id derived from the request id.
func (s *Service) CreateExpectedReceipt(ctx context.Context, requestID string, in NoticeInput) (*fulfillment.ExpectedReceipt, error) {
	if strings.TrimSpace(requestID) == "" {
		return nil, apperr.Invalid(apperr.Field("request_id", "is required: the receipt's id is derived from it"))
	}
	if s.inventory == nil {
		return nil, ErrNoInventory
	}
	in.Warehouse = strings.ToUpper(strings.TrimSpace(in.Warehouse))
	in.Supplier = strings.TrimPrefix(strings.TrimSpace(in.Supplier), "suppliers/")
	var po *fulfillment.ExpectedReceipt
	if in.PurchaseOrder != "" {
		var err error
		if po, err = visibleReceipt(ctx, s.store, fulfillment.ReceiptID(in.PurchaseOrder, in.Warehouse)); err != nil {
			if apperr.KindOf(err) == apperr.KindNotFound {
				return nil, apperr.Invalid(apperr.Field("purchase_order", fmt.Sprintf("no released purchase order %s is expected at warehouse %s", in.PurchaseOrder, in.Warehouse)))
			}
			return nil, err
		}
		if in.Supplier == "" {
			in.Supplier = po.Supplier
		}
	}
	n := fulfillment.Notice{Warehouse: in.Warehouse, PurchaseOrder: in.PurchaseOrder, Supplier: in.Supplier, Reference: in.Reference,
		ExpectedDate: strings.TrimSpace(in.ExpectedDate), Cartons: in.Cartons}
	var v apperr.Violations
	for i, l := range in.Lines {
		f := fmt.Sprintf("lines[%d]", i)
		it, err := s.inventory.ResolveItem(ctx, l.Item, in.Supplier)
		if err != nil {
			if apperr.KindOf(err) == apperr.KindNotFound {
				v.Add(f+".item", fmt.Sprintf("no item has the code %q", l.Item))
				continue
			}
			return nil, err
		}
		uom := strings.ToUpper(strings.TrimSpace(l.UoM))
		if uom == "" {
			uom = or(it.ScanUoM, it.BaseUoM)
		}
		nl := fulfillment.NoticeLine{POLine: l.POLine, SKU: it.SKU, BaseUoM: it.BaseUoM, Quantity: strings.TrimSpace(l.Quantity), UoM: uom,
			Lot: l.Lot, Expiry: strings.TrimSpace(l.Expiry), UnitCost: l.UnitCost}
		entered, err := qty.ParseDecimal(nl.Quantity, qty.Scale)
		if err != nil {
			v.Add(f+".quantity.value", err.Error())
			continue
		}
		factor, ok := it.Factors[uom]
		if !ok {
			v.Add(f+".quantity.uom", fmt.Sprintf("unit %q is not known for item %s (known units: %s)", uom, it.SKU, strings.Join(units(it), ", ")))
			continue
		}
		if nl.BaseQty, err = qty.FromRat(new(big.Rat).Mul(entered, factor)); err != nil {
			v.Add(f+".quantity.value", err.Error())
			continue
		}
		if strings.TrimSpace(nl.Lot) != "" && !it.LotTracked {
			v.Add(f+".lot", fmt.Sprintf("item %s is not lot-tracked: send no lot", it.SKU))
		}
		n.Lines = append(n.Lines, nl)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	sum := sha256.Sum256([]byte(caller.From(ctx).Qualify("notice") + "\x00" + requestID))
	id := "ASN-" + in.Warehouse + "-" + strings.ToUpper(hex.EncodeToString(sum[:6]))
	r, err := fulfillment.NewNoticeReceipt(id, n, po, partnerOf(ctx), s.now())
	if err != nil {
		return nil, err
	}
	return storetx.RunCommand(ctx, s.store.InTx, "CreateExpectedReceipt", requestID, in,
		func(tx Tx, id string) (*fulfillment.ExpectedReceipt, error) { return tx.GetExpectedReceipt(ctx, id) },
		func(tx Tx) (*fulfillment.ExpectedReceipt, string, error) {
			ok, err := tx.InsertExpectedReceipt(ctx, r)
			if err != nil {
				return nil, "", err
			}
			if !ok {
				return nil, "", apperr.AlreadyExists("expected receipt", r.ID, "")
			}
			return r, r.ID, nil
		})
}

func units(it fulfillment.ItemFacts) []string {
	var out []string
	for u := range it.Factors {
		out = append(out, u)
	}
	sort.Strings(out)
	return out
}
