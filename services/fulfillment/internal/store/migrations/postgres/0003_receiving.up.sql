-- Receiving against expected receipts. A blind receipt (no purchase order)
-- has purchase_order_id '', so the one-receipt-per-order-and-warehouse rule
-- applies to receipts of an order only.
DROP INDEX expected_receipts_by_order;
CREATE UNIQUE INDEX expected_receipts_by_order ON expected_receipts (purchase_order_id, warehouse) WHERE purchase_order_id <> '';
ALTER TABLE expected_receipts ADD COLUMN blind BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE expected_receipts ADD COLUMN reference TEXT NOT NULL DEFAULT '';
ALTER TABLE expected_receipts ADD COLUMN currency TEXT NOT NULL DEFAULT '';
ALTER TABLE expected_receipts ADD COLUMN tolerance_pct TEXT NOT NULL DEFAULT '';
ALTER TABLE expected_receipts ADD COLUMN updated_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE expected_receipts ADD COLUMN closed_at BIGINT NOT NULL DEFAULT 0;

-- unit_price is per uom in the receipt's currency; received_qty and
-- damaged_qty are millionths of the base unit.
ALTER TABLE expected_receipt_lines ADD COLUMN unit_price TEXT NOT NULL DEFAULT '';
ALTER TABLE expected_receipt_lines ADD COLUMN tolerance_pct TEXT NOT NULL DEFAULT '';
ALTER TABLE expected_receipt_lines ADD COLUMN received_qty BIGINT NOT NULL DEFAULT 0;
ALTER TABLE expected_receipt_lines ADD COLUMN damaged_qty BIGINT NOT NULL DEFAULT 0;

-- Scanned lines; base_qty in millionths of the base unit (0 while the unit
-- does not convert). po_line 0: on no line of the order.
CREATE TABLE received_lines (
    receipt_id    TEXT    NOT NULL REFERENCES expected_receipts (id),
    line_no       INTEGER NOT NULL,
    po_line       INTEGER NOT NULL,
    sku           TEXT    NOT NULL,
    code          TEXT    NOT NULL,
    quantity      TEXT    NOT NULL,
    uom           TEXT    NOT NULL,
    base_qty      BIGINT  NOT NULL,
    lot           TEXT    NOT NULL,
    expiry        TEXT    NOT NULL,
    condition     TEXT    NOT NULL,
    location      TEXT    NOT NULL,
    state         TEXT    NOT NULL,
    movement      TEXT    NOT NULL,
    cost_amount   TEXT    NOT NULL,
    cost_currency TEXT    NOT NULL,
    cost_uom      TEXT    NOT NULL,
    recorded_at   BIGINT  NOT NULL,
    recorded_by   TEXT    NOT NULL,
    PRIMARY KEY (receipt_id, line_no)
);

-- Discrepancies; resolution '' while open. warehouse, partner and
-- purchase_order_id are the receipt's, copied so lists need no join.
CREATE TABLE receipt_discrepancies (
    receipt_id   TEXT    NOT NULL REFERENCES expected_receipts (id),
    number       INTEGER NOT NULL,
    kind         TEXT    NOT NULL,
    line_no      INTEGER NOT NULL,
    po_line      INTEGER NOT NULL,
    sku          TEXT    NOT NULL,
    expected_qty BIGINT  NOT NULL,
    actual_qty   BIGINT  NOT NULL,
    detail       TEXT    NOT NULL,
    resolution   TEXT    NOT NULL,
    note         TEXT    NOT NULL,
    resolved_by  TEXT    NOT NULL,
    created_at   BIGINT  NOT NULL,
    resolved_at  BIGINT  NOT NULL,
    warehouse    TEXT    NOT NULL,
    partner      TEXT    NOT NULL,
    purchase_order_id TEXT NOT NULL,
    PRIMARY KEY (receipt_id, number)
);
CREATE INDEX receipt_discrepancies_open ON receipt_discrepancies (warehouse, resolution, receipt_id, number);
