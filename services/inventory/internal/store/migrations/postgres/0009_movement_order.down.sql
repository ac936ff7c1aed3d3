ALTER TABLE movements DROP COLUMN order_id;
