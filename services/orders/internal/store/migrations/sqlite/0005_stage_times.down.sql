DROP INDEX purchase_orders_by_released;
DROP INDEX sales_orders_by_confirmed;
ALTER TABLE purchase_orders DROP COLUMN billed_at;
ALTER TABLE purchase_orders DROP COLUMN received_at;
ALTER TABLE sales_orders DROP COLUMN paid_at;
ALTER TABLE sales_orders DROP COLUMN invoiced_at;
ALTER TABLE sales_orders DROP COLUMN shipped_at;
ALTER TABLE sales_orders DROP COLUMN picked_at;
ALTER TABLE sales_orders DROP COLUMN allocated_at;
