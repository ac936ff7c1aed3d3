-- Export batches to an external general ledger. Timestamps are unix
-- microseconds (UTC). The range is period ('YYYY-MM') or from_date and
-- to_date ('YYYY-MM-DD', inclusive, '' meaning open), as asked for. mode:
-- the domain's ExportMode (1 detail, 2 summary); format: ExportFormat (1
-- CSV, 2 JSONL). voided_at is 0 while the
-- batch is live. sha256 is '' until the content was first generated.
CREATE TABLE export_batches (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    id              TEXT    NOT NULL UNIQUE,
    period          TEXT    NOT NULL DEFAULT '',
    from_date       TEXT    NOT NULL DEFAULT '',
    to_date         TEXT    NOT NULL DEFAULT '',
    mode            INTEGER NOT NULL,
    format          INTEGER NOT NULL,
    max_entries     BIGINT  NOT NULL DEFAULT 0,
    created_at      BIGINT  NOT NULL,
    caller          TEXT    NOT NULL DEFAULT '',
    entry_count     BIGINT  NOT NULL DEFAULT 0,
    line_count      BIGINT  NOT NULL DEFAULT 0,
    skipped_count   BIGINT  NOT NULL DEFAULT 0,
    remaining_count BIGINT  NOT NULL DEFAULT 0,
    high_water_seq  BIGINT  NOT NULL DEFAULT 0,
    sha256          TEXT    NOT NULL DEFAULT '',
    size_bytes      BIGINT  NOT NULL DEFAULT 0,
    voided_at       BIGINT  NOT NULL DEFAULT 0,
    void_reason     TEXT    NOT NULL DEFAULT '',
    voided_by       TEXT    NOT NULL DEFAULT ''
);

-- export_batch_entries: what each batch holds, for good (a voided batch
-- keeps its content), keyed in export order so its content is read back a
-- page at a time by an index range. The two membership tables have no
-- foreign keys: they are written only by one INSERT ... SELECT from
-- journal_entries (never deleted) for a batch inserted just before, and a
-- per-row check would double the time a big export holds its transaction.
CREATE TABLE export_batch_entries (
    batch_id     TEXT   NOT NULL,
    effective_at BIGINT NOT NULL,
    entry_seq    BIGINT NOT NULL,
    entry_id     TEXT   NOT NULL,
    PRIMARY KEY (batch_id, effective_at, entry_seq)
);

-- journal_entry_exports: the live batch holding each exported entry. The
-- primary key is the no-double-export rule: an entry is in at most one live
-- batch. Voiding a batch deletes its rows here.
CREATE TABLE journal_entry_exports (
    entry_id TEXT NOT NULL PRIMARY KEY,
    batch_id TEXT NOT NULL
);
CREATE INDEX journal_entry_exports_by_batch ON journal_entry_exports (batch_id);
