-- Expected receipts (ASNs), one per purchase order and warehouse; the id is
-- derived from both, so a redelivered release opens nothing new. partner is
-- the purchase order's ('' for an internal one).
CREATE TABLE expected_receipts (
    id                TEXT PRIMARY KEY,
    purchase_order_id TEXT   NOT NULL,
    supplier_code     TEXT   NOT NULL,
    warehouse         TEXT   NOT NULL,
    partner           TEXT   NOT NULL,
    state             TEXT   NOT NULL,
    expected_date     TEXT   NOT NULL,
    created_at        BIGINT NOT NULL,
    version           BIGINT NOT NULL
);
CREATE UNIQUE INDEX expected_receipts_by_order ON expected_receipts (purchase_order_id, warehouse);
CREATE INDEX expected_receipts_by_warehouse ON expected_receipts (warehouse, state, id);
CREATE INDEX expected_receipts_by_partner ON expected_receipts (partner, id);

-- quantity is as the order entered it in uom; base_qty an exact decimal in
-- base_uom.
CREATE TABLE expected_receipt_lines (
    receipt_id    TEXT    NOT NULL REFERENCES expected_receipts (id),
    po_line       INTEGER NOT NULL,
    sku           TEXT    NOT NULL,
    quantity      TEXT    NOT NULL,
    uom           TEXT    NOT NULL,
    base_qty      TEXT    NOT NULL,
    base_uom      TEXT    NOT NULL,
    expected_date TEXT    NOT NULL,
    PRIMARY KEY (receipt_id, po_line)
);
