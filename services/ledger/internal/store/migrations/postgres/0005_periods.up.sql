-- Fiscal periods: one row per month the ledger has posted into or changed
-- the state of, contiguous from the first. id is "yyyy-mm" in the company's
-- time zone; start_at/end_at bound it ([start_at, end_at), unix
-- microseconds). state: the domain's PeriodState (1 open, 2 closed,
-- 3 locked). The close columns record the last close: who, why, whether it
-- was forced past the reconciliation, and the reconciliation run it took.
CREATE TABLE periods (
    id                         TEXT    PRIMARY KEY,
    start_at                   BIGINT  NOT NULL UNIQUE,
    end_at                     BIGINT  NOT NULL,
    state                      INTEGER NOT NULL CHECK (state IN (1, 2, 3)),
    closed_at                  BIGINT  NOT NULL DEFAULT 0,
    closed_by                  TEXT    NOT NULL DEFAULT '',
    close_reason               TEXT    NOT NULL DEFAULT '',
    forced                     BOOLEAN NOT NULL DEFAULT FALSE,
    reconciliation_id          TEXT    NOT NULL DEFAULT '',
    reconciliation_clean       BOOLEAN NOT NULL DEFAULT FALSE,
    reconciliation_differences INTEGER NOT NULL DEFAULT 0,
    reconciliation_error       TEXT    NOT NULL DEFAULT '',
    locked_at                  BIGINT  NOT NULL DEFAULT 0,
    locked_by                  TEXT    NOT NULL DEFAULT '',
    lock_reason                TEXT    NOT NULL DEFAULT '',
    reopened_at                BIGINT  NOT NULL DEFAULT 0,
    reopened_by                TEXT    NOT NULL DEFAULT '',
    reopen_reason              TEXT    NOT NULL DEFAULT ''
);

-- The period an entry is posted into ('' for entries posted before periods
-- existed, which the service assigns at start), and whether it is a manual
-- adjusting entry (the only kind a closed period takes).
ALTER TABLE journal_entries ADD COLUMN posting_period TEXT NOT NULL DEFAULT '';
ALTER TABLE journal_entries ADD COLUMN adjusting BOOLEAN NOT NULL DEFAULT FALSE;
CREATE INDEX journal_entries_by_period ON journal_entries (posting_period, seq);
