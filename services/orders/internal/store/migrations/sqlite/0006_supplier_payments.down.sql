DROP TABLE supplier_payment_applications;
DROP TABLE supplier_payments;
DROP INDEX supplier_bills_payable;
ALTER TABLE purchase_orders DROP COLUMN paid_at;
ALTER TABLE supplier_bills DROP COLUMN paid_at;
ALTER TABLE supplier_bills DROP COLUMN paid_minor;
ALTER TABLE supplier_bills DROP COLUMN due_date;
