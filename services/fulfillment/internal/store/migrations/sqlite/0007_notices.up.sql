-- Shipping notices from partners and suppliers: the cartons announced, and
-- per line the lot (and expiry) announced and the unit its price is for.
ALTER TABLE expected_receipts ADD COLUMN cartons INTEGER NOT NULL DEFAULT 0;
ALTER TABLE expected_receipt_lines ADD COLUMN price_uom TEXT NOT NULL DEFAULT '';
ALTER TABLE expected_receipt_lines ADD COLUMN lot TEXT NOT NULL DEFAULT '';
ALTER TABLE expected_receipt_lines ADD COLUMN expiry TEXT NOT NULL DEFAULT '';

-- A notice may name a purchase order whose own receipt is at the same
-- warehouse: the id (derived from the order and warehouse for a release)
-- keeps one receipt per release; this index only finds them.
DROP INDEX expected_receipts_by_order;
CREATE INDEX expected_receipts_by_order ON expected_receipts (purchase_order_id, warehouse);
