DROP INDEX expected_receipts_by_order;
CREATE UNIQUE INDEX expected_receipts_by_order ON expected_receipts (purchase_order_id, warehouse) WHERE purchase_order_id <> '';
ALTER TABLE expected_receipt_lines DROP COLUMN expiry;
ALTER TABLE expected_receipt_lines DROP COLUMN lot;
ALTER TABLE expected_receipt_lines DROP COLUMN price_uom;
ALTER TABLE expected_receipts DROP COLUMN cartons;
