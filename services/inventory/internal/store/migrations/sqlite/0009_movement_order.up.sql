-- The outbound order a shipment's issue (and a return of it) was for: the
-- allocation's order, so the ledger books COGS under the order the invoice
-- names. Empty for every other movement.
ALTER TABLE movements ADD COLUMN order_id TEXT NOT NULL DEFAULT '';
