-- Transfers between warehouses (stock in transit with its layers' values),
-- reversals of wrong receipts, customer returns at the cost of their issue.

-- The transfer of a TRANSFER_OUT / TRANSFER_IN movement, and the movement a
-- REVERSAL reverses ('' otherwise).
ALTER TABLE movements ADD COLUMN transfer_id TEXT NOT NULL DEFAULT '';
ALTER TABLE movements ADD COLUMN reverses TEXT NOT NULL DEFAULT '';
-- A receipt is reversed once: found through this index.
CREATE INDEX movements_by_reverses ON movements (reverses) WHERE reverses <> '';
-- The issue a customer return came from (''), and what was returned of an
-- issue, through this index.
ALTER TABLE movements ADD COLUMN returns TEXT NOT NULL DEFAULT '';
CREATE INDEX movements_by_returns ON movements (returns) WHERE returns <> '';

-- Stock sent from a location of one warehouse to another warehouse. While
-- state is 1 (in transit) its value is in neither warehouse's books.
CREATE TABLE transfers (
    id              TEXT    PRIMARY KEY,
    sku             TEXT    NOT NULL REFERENCES items (sku),
    from_warehouse  TEXT    NOT NULL REFERENCES warehouses (code),
    from_location   TEXT    NOT NULL,
    to_warehouse    TEXT    NOT NULL REFERENCES warehouses (code),
    to_location     TEXT    NOT NULL DEFAULT '',
    lot             TEXT    NOT NULL DEFAULT '',
    expiry_date     TEXT    NOT NULL DEFAULT '',
    qty             BIGINT  NOT NULL,
    value_minor     BIGINT  NOT NULL,
    currency        TEXT    NOT NULL,
    state           INTEGER NOT NULL,
    out_movement_id TEXT    NOT NULL,
    source_type     INTEGER NOT NULL DEFAULT 0,
    source_id       TEXT    NOT NULL DEFAULT '',
    source_line     TEXT    NOT NULL DEFAULT '',
    created_at      BIGINT  NOT NULL,
    received_at     BIGINT  NOT NULL DEFAULT 0
);
CREATE INDEX transfers_in_transit ON transfers (to_warehouse, sku) WHERE state = 1;

-- The layers a transfer carries, in the order consumed.
CREATE TABLE transfer_layers (
    transfer_id     TEXT    NOT NULL REFERENCES transfers (id),
    pos             INTEGER NOT NULL,
    source_layer_id TEXT    NOT NULL,
    qty             BIGINT  NOT NULL,
    value_minor     BIGINT  NOT NULL,
    received_at     BIGINT  NOT NULL,
    in_movement_id  TEXT    NOT NULL DEFAULT '',
    PRIMARY KEY (transfer_id, pos)
);
