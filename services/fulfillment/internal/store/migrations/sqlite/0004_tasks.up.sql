-- The warehouse's task queue (putaway, pick, count). qty is millionths of
-- base_uom; claim_expires_at, done_at are unix microseconds (0: none). A
-- CLAIMED task whose claim expired is claimable again: the queue index
-- leads with the state and ends with the creation order workers get.
CREATE TABLE tasks (
    id               TEXT    PRIMARY KEY,
    type             TEXT    NOT NULL,
    warehouse        TEXT    NOT NULL,
    zone             TEXT    NOT NULL,
    state            TEXT    NOT NULL,
    sku              TEXT    NOT NULL,
    lot              TEXT    NOT NULL,
    qty              BIGINT  NOT NULL,
    base_uom         TEXT    NOT NULL,
    from_location    TEXT    NOT NULL,
    to_location      TEXT    NOT NULL,
    receipt_id       TEXT    NOT NULL,
    receipt_line     INTEGER NOT NULL,
    reference        TEXT    NOT NULL,
    partner          TEXT    NOT NULL,
    claimed_by       TEXT    NOT NULL,
    claim_expires_at BIGINT  NOT NULL,
    done_by          TEXT    NOT NULL,
    done_to          TEXT    NOT NULL,
    movement         TEXT    NOT NULL,
    created_at       BIGINT  NOT NULL,
    updated_at       BIGINT  NOT NULL,
    done_at          BIGINT  NOT NULL,
    version          BIGINT  NOT NULL
);
CREATE INDEX tasks_queue ON tasks (warehouse, state, type, zone, created_at, id);
CREATE INDEX tasks_by_reference ON tasks (reference, id);
