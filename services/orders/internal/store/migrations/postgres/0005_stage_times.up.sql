-- Order-to-cash and procure-to-pay stage times (unix microseconds, 0 until
-- the stage happened), the first time each happened.
ALTER TABLE sales_orders ADD COLUMN allocated_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE sales_orders ADD COLUMN picked_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE sales_orders ADD COLUMN shipped_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE sales_orders ADD COLUMN invoiced_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE sales_orders ADD COLUMN paid_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE purchase_orders ADD COLUMN received_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE purchase_orders ADD COLUMN billed_at BIGINT NOT NULL DEFAULT 0;
-- The timings read the documents of a range of their first stage.
CREATE INDEX sales_orders_by_confirmed ON sales_orders (confirmed_at);
CREATE INDEX purchase_orders_by_released ON purchase_orders (released_at);
