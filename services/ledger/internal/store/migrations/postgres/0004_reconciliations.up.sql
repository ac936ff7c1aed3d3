-- Reconciliation runs: when, the inventory watermark compared at, the
-- checkpoint the next run starts from (every value-changing movement up to
-- it was posted), and the outcome.
CREATE TABLE reconciliations (
    id          TEXT    PRIMARY KEY,
    run_at      BIGINT  NOT NULL,
    through_seq BIGINT  NOT NULL,
    checkpoint  BIGINT  NOT NULL,
    clean       BOOLEAN NOT NULL,
    differences INTEGER NOT NULL,
    caller      TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX reconciliations_by_time ON reconciliations (run_at);

-- Reconciliation sums the entries of movements newer than a watermark.
CREATE INDEX journal_entries_by_source_seq ON journal_entries (source_seq) WHERE source_seq > 0;
