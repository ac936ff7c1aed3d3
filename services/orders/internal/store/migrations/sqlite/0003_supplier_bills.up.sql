-- What each purchase order line's receipts were booked at (inventory's
-- movement values, minor units of the order's currency, reversals
-- subtracted), and what approved and held supplier bills billed of it: the
-- base quantity and the GRNI value that quantity clears.
ALTER TABLE purchase_order_lines ADD COLUMN received_value_minor BIGINT NOT NULL DEFAULT 0;
ALTER TABLE purchase_order_lines ADD COLUMN billed_qty BIGINT NOT NULL DEFAULT 0;
ALTER TABLE purchase_order_lines ADD COLUMN billed_value_minor BIGINT NOT NULL DEFAULT 0;

-- Supplier bills (accounts payable), each against one purchase order. The
-- supplier's bill number is unique per supplier. partner is '' for a bill an
-- internal caller recorded; approved_at 0 until approved.
CREATE TABLE supplier_bills (
    id                         TEXT PRIMARY KEY,
    bill_number                TEXT   NOT NULL,
    supplier_code              TEXT   NOT NULL REFERENCES suppliers (code),
    purchase_order_id          TEXT   NOT NULL REFERENCES purchase_orders (id),
    currency_code              TEXT   NOT NULL,
    partner                    TEXT   NOT NULL,
    bill_date                  TEXT   NOT NULL,
    state                      TEXT   NOT NULL,
    match_outcome              TEXT   NOT NULL,
    price_tolerance_percent    TEXT   NOT NULL,
    quantity_tolerance_percent TEXT   NOT NULL,
    tax_minor                  BIGINT NOT NULL,
    total_minor                BIGINT NOT NULL,
    reason                     TEXT   NOT NULL,
    created_at                 BIGINT NOT NULL,
    updated_at                 BIGINT NOT NULL,
    approved_at                BIGINT NOT NULL,
    version                    BIGINT NOT NULL,
    UNIQUE (supplier_code, bill_number)
);

CREATE INDEX supplier_bills_by_partner ON supplier_bills (partner, id);
CREATE INDEX supplier_bills_by_state ON supplier_bills (state, id);
CREATE INDEX supplier_bills_by_order ON supplier_bills (purchase_order_id, id);

-- A bill's lines, numbered from 1 in the order given. Quantities are integer
-- millionths of the base unit; amounts minor units of the bill's currency.
CREATE TABLE supplier_bill_lines (
    bill_id              TEXT    NOT NULL REFERENCES supplier_bills (id),
    line_number          INTEGER NOT NULL,
    po_line_number       INTEGER NOT NULL,
    sku                  TEXT    NOT NULL,
    warehouse            TEXT    NOT NULL,
    base_uom             TEXT    NOT NULL,
    quantity             TEXT    NOT NULL,
    uom                  TEXT    NOT NULL,
    factor               TEXT    NOT NULL,
    base_qty             BIGINT  NOT NULL,
    unit_price           TEXT    NOT NULL,
    amount_minor         BIGINT  NOT NULL,
    ordered_amount_minor BIGINT  NOT NULL,
    grni_minor           BIGINT  NOT NULL,
    match_outcome        TEXT    NOT NULL,
    PRIMARY KEY (bill_id, line_number)
);
