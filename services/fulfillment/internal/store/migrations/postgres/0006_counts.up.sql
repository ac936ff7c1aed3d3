-- Cycle counts. locations and items are the codes asked for, space-
-- separated. max_qty is millionths of the base unit; max_value_currency ''
-- means the value is not judged. to_book: some line is approved and not
-- booked in inventory yet (the booking worker's index).
CREATE TABLE counts (
    id                 TEXT    PRIMARY KEY,
    warehouse          TEXT    NOT NULL,
    partner            TEXT    NOT NULL,
    state              TEXT    NOT NULL,
    locations          TEXT    NOT NULL,
    items              TEXT    NOT NULL,
    reason_code        TEXT    NOT NULL,
    max_qty            BIGINT  NOT NULL,
    max_value_minor    BIGINT  NOT NULL,
    max_value_currency TEXT    NOT NULL,
    created_by         TEXT    NOT NULL,
    created_at         BIGINT  NOT NULL,
    updated_at         BIGINT  NOT NULL,
    completed_at       BIGINT  NOT NULL,
    version            BIGINT  NOT NULL,
    to_book            BOOLEAN NOT NULL
);
CREATE INDEX counts_by_warehouse ON counts (warehouse, state, id);
CREATE INDEX counts_to_book ON counts (to_book, id);

-- A count's tasks (the queue's rows are in tasks, of the same id).
-- recounts: the line a recount counts again, 0 for a first count.
CREATE TABLE count_tasks (
    count_id TEXT    NOT NULL REFERENCES counts (id),
    n        INTEGER NOT NULL,
    task_id  TEXT    NOT NULL,
    location TEXT    NOT NULL,
    sku      TEXT    NOT NULL,
    recounts INTEGER NOT NULL,
    done     BOOLEAN NOT NULL,
    PRIMARY KEY (count_id, n)
);

-- Counted lines. Quantities are millionths of base_uom; expected is what
-- inventory held at the location at counted_at, difference = counted -
-- expected, value_minor its value in currency's minor units. Times are
-- unix microseconds (0: none).
CREATE TABLE count_lines (
    count_id     TEXT    NOT NULL REFERENCES counts (id),
    line_no      INTEGER NOT NULL,
    task_id      TEXT    NOT NULL,
    location     TEXT    NOT NULL,
    sku          TEXT    NOT NULL,
    lot          TEXT    NOT NULL,
    expiry       TEXT    NOT NULL,
    base_uom     TEXT    NOT NULL,
    counted      BIGINT  NOT NULL,
    uncounted    BOOLEAN NOT NULL,
    expected     BIGINT  NOT NULL,
    difference   BIGINT  NOT NULL,
    value_minor  BIGINT  NOT NULL,
    currency     TEXT    NOT NULL,
    state        TEXT    NOT NULL,
    reason_code  TEXT    NOT NULL,
    counted_by   TEXT    NOT NULL,
    counted_at   BIGINT  NOT NULL,
    recorded_at  BIGINT  NOT NULL,
    reviewed_by  TEXT    NOT NULL,
    review_note  TEXT    NOT NULL,
    reviewed_at  BIGINT  NOT NULL,
    movement     TEXT    NOT NULL,
    booked_at    BIGINT  NOT NULL,
    note         TEXT    NOT NULL,
    recount_task TEXT    NOT NULL,
    PRIMARY KEY (count_id, line_no)
);
