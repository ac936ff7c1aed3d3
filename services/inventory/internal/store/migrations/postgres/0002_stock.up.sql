-- Stock, the movement journal, cost layers and allocations.
-- Quantities are BIGINT counts of micro base units (scale 6: 1.5 EA = 1500000);
-- money is BIGINT minor units with a currency code; timestamps are unix micros.

ALTER TABLE items ADD COLUMN allow_negative BOOLEAN NOT NULL DEFAULT FALSE;

-- A lot of an item; lot '' stands for "no lot" (items not tracked by lot).
CREATE TABLE lots (
    sku               TEXT   NOT NULL REFERENCES items (sku),
    lot               TEXT   NOT NULL,
    expiry_date       TEXT   NOT NULL DEFAULT '', -- YYYY-MM-DD or ''
    first_received_at BIGINT NOT NULL,
    PRIMARY KEY (sku, lot)
);

-- On hand by location x item x lot. allocated never exceeds on_hand while
-- on_hand is positive; available = on_hand - allocated.
CREATE TABLE stock_levels (
    warehouse   TEXT   NOT NULL,
    location    TEXT   NOT NULL,
    sku         TEXT   NOT NULL,
    lot         TEXT   NOT NULL,
    on_hand     BIGINT NOT NULL,
    allocated   BIGINT NOT NULL DEFAULT 0,
    received_at BIGINT NOT NULL, -- first receipt into this level: the FIFO key
    PRIMARY KEY (warehouse, location, sku, lot),
    FOREIGN KEY (warehouse, location) REFERENCES locations (warehouse, code),
    FOREIGN KEY (sku, lot) REFERENCES lots (sku, lot),
    CHECK (allocated >= 0),
    CHECK (allocated <= on_hand OR allocated = 0)
);
CREATE INDEX stock_levels_by_item ON stock_levels (warehouse, sku);

-- The append-only movement journal.
CREATE TABLE movements (
    seq           BIGSERIAL PRIMARY KEY,
    id            TEXT    NOT NULL UNIQUE,
    type          SMALLINT NOT NULL,
    sku           TEXT    NOT NULL REFERENCES items (sku),
    warehouse     TEXT    NOT NULL REFERENCES warehouses (code),
    from_location TEXT    NOT NULL DEFAULT '',
    to_location   TEXT    NOT NULL DEFAULT '',
    lot           TEXT    NOT NULL DEFAULT '',
    expiry_date   TEXT    NOT NULL DEFAULT '',
    entered_qty   TEXT    NOT NULL,
    entered_uom   TEXT    NOT NULL,
    base_qty      BIGINT  NOT NULL, -- signed micro base units
    value_minor   BIGINT  NOT NULL, -- signed
    currency      TEXT    NOT NULL DEFAULT '',
    counted_qty   BIGINT,
    source_type   SMALLINT NOT NULL DEFAULT 0,
    source_id     TEXT    NOT NULL DEFAULT '',
    source_line   TEXT    NOT NULL DEFAULT '',
    reason_code   TEXT    NOT NULL DEFAULT '',
    allocation_id TEXT    NOT NULL DEFAULT '',
    created_at    BIGINT  NOT NULL,
    -- The writing transaction: readers page the journal only up to the oldest
    -- transaction still running, so a movement that commits late with a lower
    -- seq is never skipped by a reader that already paged past it.
    txid          BIGINT  NOT NULL DEFAULT (pg_current_xact_id()::text::bigint)
);
CREATE INDEX movements_by_item ON movements (sku, seq);
CREATE INDEX movements_by_time ON movements (warehouse, sku, created_at);
-- The ledger's drill-down: from a document to its movements.
CREATE INDEX movements_by_source ON movements (source_type, source_id);

-- Cost layers: a receipt opens one (FIFO); a moving-average item has one pooled
-- layer per warehouse. qty_remaining and value_remaining go down as issues
-- consume them; a negative layer holds stock issued before it was received.
CREATE TABLE cost_layers (
    id              TEXT    PRIMARY KEY,
    seq             BIGINT   NOT NULL UNIQUE,
    sku             TEXT    NOT NULL REFERENCES items (sku),
    warehouse       TEXT    NOT NULL REFERENCES warehouses (code),
    lot             TEXT    NOT NULL DEFAULT '',
    currency        TEXT    NOT NULL,
    qty_in          BIGINT  NOT NULL,
    value_in        BIGINT  NOT NULL,
    qty_remaining   BIGINT  NOT NULL,
    value_remaining BIGINT  NOT NULL,
    received_at     BIGINT  NOT NULL,
    movement_id     TEXT    NOT NULL
);
-- Only layers that still hold stock are read on the hot path.
CREATE INDEX cost_layers_open ON cost_layers (sku, warehouse, seq) WHERE qty_remaining <> 0;
CREATE INDEX cost_layers_by_item ON cost_layers (sku, warehouse, seq);

CREATE TABLE movement_layers (
    movement_id TEXT   NOT NULL,
    layer_id    TEXT   NOT NULL,
    qty         BIGINT NOT NULL,
    value_minor BIGINT NOT NULL,
    PRIMARY KEY (movement_id, layer_id)
);

CREATE TABLE allocations (
    id            TEXT    PRIMARY KEY,
    sku           TEXT    NOT NULL REFERENCES items (sku),
    warehouse     TEXT    NOT NULL REFERENCES warehouses (code),
    order_type    SMALLINT NOT NULL DEFAULT 0,
    order_id      TEXT    NOT NULL DEFAULT '',
    order_line    TEXT    NOT NULL DEFAULT '',
    requested_qty TEXT    NOT NULL,
    requested_uom TEXT    NOT NULL,
    requested     BIGINT  NOT NULL,
    state         SMALLINT NOT NULL,
    created_at    BIGINT  NOT NULL,
    updated_at    BIGINT  NOT NULL
);

CREATE TABLE allocation_lines (
    allocation_id TEXT   NOT NULL REFERENCES allocations (id),
    location      TEXT   NOT NULL,
    lot           TEXT   NOT NULL,
    qty           BIGINT NOT NULL,
    picked        BIGINT NOT NULL DEFAULT 0,
    released      BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (allocation_id, location, lot)
);
