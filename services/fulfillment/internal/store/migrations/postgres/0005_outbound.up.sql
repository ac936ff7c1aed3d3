-- Picks on the task queue: the outbound order line (the order is the
-- task's reference), the inventory allocation, and the wave.
ALTER TABLE tasks ADD COLUMN order_line INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tasks ADD COLUMN allocation TEXT NOT NULL DEFAULT '';
ALTER TABLE tasks ADD COLUMN wave TEXT NOT NULL DEFAULT '';

-- Outbound orders, named after their sales orders. Quantities are
-- millionths of the line's base unit.
CREATE TABLE outbound_orders (
    id         TEXT    PRIMARY KEY,
    customer   TEXT    NOT NULL,
    partner    TEXT    NOT NULL,
    state      TEXT    NOT NULL,
    shipments  INTEGER NOT NULL,
    created_at BIGINT  NOT NULL,
    updated_at BIGINT  NOT NULL,
    version    BIGINT  NOT NULL
);
CREATE INDEX outbound_orders_by_state ON outbound_orders (state, id);

-- need_allocate / need_release: work owed to inventory, done by request ids
-- derived from the line; the index finds it.
CREATE TABLE outbound_lines (
    order_id      TEXT    NOT NULL REFERENCES outbound_orders (id),
    line          INTEGER NOT NULL,
    sku           TEXT    NOT NULL,
    warehouse     TEXT    NOT NULL,
    base_uom      TEXT    NOT NULL,
    ordered       BIGINT  NOT NULL,
    allocated     BIGINT  NOT NULL,
    picked        BIGINT  NOT NULL,
    packed        BIGINT  NOT NULL,
    shipped       BIGINT  NOT NULL,
    short         BIGINT  NOT NULL,
    cancelled     BIGINT  NOT NULL,
    allocation    TEXT    NOT NULL,
    need_allocate BOOLEAN NOT NULL,
    need_release  BOOLEAN NOT NULL,
    PRIMARY KEY (order_id, line)
);
CREATE INDEX outbound_lines_owed ON outbound_lines (need_allocate, need_release, order_id);

CREATE TABLE staged_parts (
    order_id TEXT    NOT NULL REFERENCES outbound_orders (id),
    line     INTEGER NOT NULL,
    lot      TEXT    NOT NULL,
    location TEXT    NOT NULL,
    qty      BIGINT  NOT NULL,
    packed   BIGINT  NOT NULL,
    PRIMARY KEY (order_id, line, lot, location)
);

CREATE TABLE shipments (
    id            TEXT   PRIMARY KEY,
    order_id      TEXT   NOT NULL REFERENCES outbound_orders (id),
    warehouse     TEXT   NOT NULL,
    partner       TEXT   NOT NULL,
    state         TEXT   NOT NULL,
    carrier       TEXT   NOT NULL,
    service_level TEXT   NOT NULL,
    tracking      TEXT   NOT NULL,
    created_at    BIGINT NOT NULL,
    shipped_at    BIGINT NOT NULL,
    version       BIGINT NOT NULL
);
CREATE INDEX shipments_by_order ON shipments (order_id, id);

-- cost_minor: what inventory reported for the issue, in minor units.
CREATE TABLE shipment_lines (
    shipment_id   TEXT    NOT NULL REFERENCES shipments (id),
    n             INTEGER NOT NULL,
    line          INTEGER NOT NULL,
    sku           TEXT    NOT NULL,
    lot           TEXT    NOT NULL,
    location      TEXT    NOT NULL,
    qty           BIGINT  NOT NULL,
    base_uom      TEXT    NOT NULL,
    allocation    TEXT    NOT NULL,
    cost_minor    BIGINT  NOT NULL,
    cost_currency TEXT    NOT NULL,
    movement      TEXT    NOT NULL,
    PRIMARY KEY (shipment_id, n)
);

CREATE TABLE shipment_cartons (
    shipment_id TEXT    NOT NULL REFERENCES shipments (id),
    number      INTEGER NOT NULL,
    weight_kg   TEXT    NOT NULL,
    length_cm   TEXT    NOT NULL,
    width_cm    TEXT    NOT NULL,
    height_cm   TEXT    NOT NULL,
    PRIMARY KEY (shipment_id, number)
);
