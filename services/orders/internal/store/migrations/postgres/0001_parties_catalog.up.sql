-- Timestamps are unix microseconds (UTC) in BIGINT columns on both dialects.
CREATE TABLE suppliers (
    code          TEXT PRIMARY KEY,
    display_name  TEXT   NOT NULL,
    currency_code TEXT   NOT NULL,
    created_at    BIGINT NOT NULL
);

CREATE TABLE customers (
    code          TEXT PRIMARY KEY,
    display_name  TEXT   NOT NULL,
    currency_code TEXT   NOT NULL,
    created_at    BIGINT NOT NULL
);

-- The read model of inventory's item master, fed by its events.
-- source_version only ever grows (see PutCatalogItem).
CREATE TABLE catalog_items (
    sku            TEXT PRIMARY KEY,
    description    TEXT   NOT NULL,
    base_uom       TEXT   NOT NULL,
    source_version BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL
);
