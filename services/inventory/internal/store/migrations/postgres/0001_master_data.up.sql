-- Timestamps are unix microseconds (UTC) in BIGINT columns on both dialects.
CREATE TABLE items (
    sku              TEXT PRIMARY KEY,
    description      TEXT    NOT NULL,
    base_uom         TEXT    NOT NULL,
    whole_units_only BOOLEAN NOT NULL,
    tracking         SMALLINT NOT NULL,
    expiry_required  BOOLEAN NOT NULL,
    cost_method      SMALLINT NOT NULL,
    status           SMALLINT NOT NULL,
    version          BIGINT  NOT NULL,
    created_at       BIGINT  NOT NULL,
    updated_at       BIGINT  NOT NULL
);

-- factor: base units in one uom, an exact decimal kept as canonical text.
CREATE TABLE item_uoms (
    sku    TEXT NOT NULL REFERENCES items (sku),
    uom    TEXT NOT NULL,
    factor TEXT NOT NULL,
    PRIMARY KEY (sku, uom)
);

-- A code maps to exactly one item within its namespace (and partner).
CREATE TABLE item_codes (
    namespace SMALLINT NOT NULL,
    partner   TEXT    NOT NULL DEFAULT '',
    code      TEXT    NOT NULL,
    sku       TEXT    NOT NULL REFERENCES items (sku),
    PRIMARY KEY (namespace, partner, code)
);
CREATE INDEX item_codes_by_sku ON item_codes (sku);

CREATE TABLE warehouses (
    code         TEXT PRIMARY KEY,
    display_name TEXT   NOT NULL,
    time_zone    TEXT   NOT NULL,
    created_at   BIGINT NOT NULL
);

CREATE TABLE locations (
    warehouse  TEXT    NOT NULL REFERENCES warehouses (code),
    code       TEXT    NOT NULL,
    type       SMALLINT NOT NULL,
    blocked    BOOLEAN NOT NULL,
    created_at BIGINT  NOT NULL,
    PRIMARY KEY (warehouse, code)
);
