-- Returns to the supplier (a RETURN resolution of an over-receipt, or any
-- inventory issue against a purchase order line).
--
-- Where the line's last receipt put the stock (a location code of the line's
-- warehouse, and the lot): a RETURN's default. returned_qty is what went back
-- to the supplier; received_qty and received_value_minor are net of it.
ALTER TABLE purchase_order_lines ADD COLUMN receipt_location TEXT NOT NULL DEFAULT '';
ALTER TABLE purchase_order_lines ADD COLUMN receipt_lot TEXT NOT NULL DEFAULT '';
ALTER TABLE purchase_order_lines ADD COLUMN returned_qty BIGINT NOT NULL DEFAULT 0;
-- The RETURN in progress: return_discrepancy is the discrepancy's number on
-- the line, 0 when no return is in progress.
ALTER TABLE purchase_order_lines ADD COLUMN return_discrepancy INTEGER NOT NULL DEFAULT 0;
ALTER TABLE purchase_order_lines ADD COLUMN return_qty BIGINT NOT NULL DEFAULT 0;
ALTER TABLE purchase_order_lines ADD COLUMN return_location TEXT NOT NULL DEFAULT '';
ALTER TABLE purchase_order_lines ADD COLUMN return_lot TEXT NOT NULL DEFAULT '';
ALTER TABLE purchase_order_lines ADD COLUMN return_started_at BIGINT NOT NULL DEFAULT 0;

-- The resolved over-receipt discrepancies of each line, numbered from 1 per
-- line; movement is a RETURN's inventory issue ('' otherwise). Immutable.
CREATE TABLE purchase_order_resolutions (
    purchase_order_id TEXT    NOT NULL REFERENCES purchase_orders (id),
    line_number       INTEGER NOT NULL,
    discrepancy       INTEGER NOT NULL,
    resolution        TEXT    NOT NULL,
    quantity          BIGINT  NOT NULL,
    movement          TEXT    NOT NULL,
    resolved_at       BIGINT  NOT NULL,
    PRIMARY KEY (purchase_order_id, line_number, discrepancy)
);

-- The inventory issues applied to purchase order lines as returns, one row
-- per movement: the issue event and the RETURN that made the issue both
-- record it, and only the first applies it.
CREATE TABLE purchase_order_returns (
    purchase_order_id TEXT    NOT NULL REFERENCES purchase_orders (id),
    movement          TEXT    NOT NULL,
    line_number       INTEGER NOT NULL,
    quantity          BIGINT  NOT NULL,
    value_minor       BIGINT  NOT NULL,
    recorded_at       BIGINT  NOT NULL,
    PRIMARY KEY (purchase_order_id, movement)
);
