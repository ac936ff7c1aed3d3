-- The units an item knows besides its base unit, as "UOM=factor" pairs joined
-- by ";" (e.g. "CS=12;HALF=0.5"): units are A-Z and 0-9, factors canonical
-- decimals, so neither separator can occur in them. Empty until the item's
-- next event for copies taken before this column existed.
ALTER TABLE catalog_items ADD COLUMN uom_factors TEXT NOT NULL DEFAULT '';
ALTER TABLE catalog_items ADD COLUMN whole_units_only BOOLEAN NOT NULL DEFAULT FALSE;

-- The items' cross-references, by which order lines may name an item. partner
-- is the supplier or customer code for their namespaces, '' for ERP and WMS.
-- A code names one item; when it moves to another, the newer event wins.
CREATE TABLE catalog_item_codes (
    namespace TEXT NOT NULL,
    partner   TEXT NOT NULL,
    code      TEXT NOT NULL,
    sku       TEXT NOT NULL REFERENCES catalog_items (sku),
    PRIMARY KEY (namespace, partner, code)
);
CREATE INDEX catalog_item_codes_by_sku ON catalog_item_codes (sku);

-- Purchase orders. partner is '' for an order an internal caller created.
-- released_at is 0 while a draft. version guards every update (optimistic).
CREATE TABLE purchase_orders (
    id                TEXT PRIMARY KEY,
    supplier_code     TEXT   NOT NULL REFERENCES suppliers (code),
    currency_code     TEXT   NOT NULL,
    partner           TEXT   NOT NULL,
    state             TEXT   NOT NULL,
    tolerance_percent TEXT   NOT NULL,
    total_minor       BIGINT NOT NULL,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL,
    released_at       BIGINT NOT NULL,
    version           BIGINT NOT NULL
);

CREATE INDEX purchase_orders_by_partner ON purchase_orders (partner, id);
CREATE INDEX purchase_orders_by_supplier ON purchase_orders (supplier_code, id);
CREATE INDEX purchase_orders_by_state ON purchase_orders (state, id);

-- Quantities are integer millionths of the item's base unit; amounts minor
-- units of the order's currency; quantity, factor, unit_price and
-- tolerance_percent exact decimals as text.
CREATE TABLE purchase_order_lines (
    purchase_order_id TEXT    NOT NULL REFERENCES purchase_orders (id),
    line_number       INTEGER NOT NULL,
    sku               TEXT    NOT NULL,
    base_uom          TEXT    NOT NULL,
    quantity          TEXT    NOT NULL,
    uom               TEXT    NOT NULL,
    factor            TEXT    NOT NULL,
    base_qty          BIGINT  NOT NULL,
    unit_price        TEXT    NOT NULL,
    amount_minor      BIGINT  NOT NULL,
    warehouse         TEXT    NOT NULL,
    expected_date     TEXT    NOT NULL,
    tolerance_percent TEXT    NOT NULL,
    received_qty      BIGINT  NOT NULL,
    cancelled_qty     BIGINT  NOT NULL,
    accepted_up_to    BIGINT  NOT NULL,
    PRIMARY KEY (purchase_order_id, line_number)
);
