DROP TABLE supplier_bill_lines;
DROP TABLE supplier_bills;
ALTER TABLE purchase_order_lines DROP COLUMN billed_value_minor;
ALTER TABLE purchase_order_lines DROP COLUMN billed_qty;
ALTER TABLE purchase_order_lines DROP COLUMN received_value_minor;
