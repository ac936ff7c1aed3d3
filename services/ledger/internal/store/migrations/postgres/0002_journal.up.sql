-- The double-entry journal. Timestamps are unix microseconds (UTC) in BIGINT
-- columns; amounts are int64 minor units of their line's currency.

-- journal_entries: seq is the posting order. An entry posted from an event
-- records its id; posting is idempotent by it (journal_entries_by_event).
-- reverses is the id of the entry this one reverses, or ''.
CREATE TABLE journal_entries (
    seq                BIGSERIAL PRIMARY KEY,
    id                 TEXT    NOT NULL UNIQUE,
    effective_at       BIGINT  NOT NULL,
    posted_at          BIGINT  NOT NULL,
    description        TEXT    NOT NULL DEFAULT '',
    source_service     TEXT    NOT NULL DEFAULT '',
    source_event_type  TEXT    NOT NULL DEFAULT '',
    source_event_id    TEXT    NOT NULL DEFAULT '',
    source_document_id TEXT    NOT NULL DEFAULT '',
    source_movement_id TEXT    NOT NULL DEFAULT '',
    source_seq         BIGINT  NOT NULL DEFAULT 0,
    source_trace_id    TEXT    NOT NULL DEFAULT '',
    rule               TEXT    NOT NULL DEFAULT '',
    rule_version       INTEGER NOT NULL DEFAULT 0,
    reverses           TEXT    NOT NULL DEFAULT '',
    reason             TEXT    NOT NULL DEFAULT '',
    caller             TEXT    NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX journal_entries_by_event ON journal_entries (source_event_id) WHERE source_event_id <> '';
-- An entry is reversed at most once.
CREATE UNIQUE INDEX journal_entries_reversal ON journal_entries (reverses) WHERE reverses <> '';
CREATE INDEX journal_entries_by_movement ON journal_entries (source_movement_id) WHERE source_movement_id <> '';
CREATE INDEX journal_entries_by_document ON journal_entries (source_document_id) WHERE source_document_id <> '';
CREATE INDEX journal_entries_by_effective ON journal_entries (effective_at, seq);

-- journal_lines: the lines of an entry, in order. side: the domain's Side
-- (1 debit, 2 credit). effective_at is the entry's, copied so account
-- activity and partial-day balances need no join.
CREATE TABLE journal_lines (
    entry_id     TEXT    NOT NULL REFERENCES journal_entries (id),
    line_no      INTEGER NOT NULL,
    account      TEXT    NOT NULL REFERENCES accounts (code),
    side         SMALLINT NOT NULL CHECK (side IN (1, 2)),
    amount       BIGINT  NOT NULL CHECK (amount > 0),
    currency     TEXT    NOT NULL,
    warehouse    TEXT    NOT NULL DEFAULT '',
    item         TEXT    NOT NULL DEFAULT '',
    lot          TEXT    NOT NULL DEFAULT '',
    document     TEXT    NOT NULL DEFAULT '',
    partner      TEXT    NOT NULL DEFAULT '',
    effective_at BIGINT  NOT NULL,
    PRIMARY KEY (entry_id, line_no)
);
CREATE INDEX journal_lines_by_account ON journal_lines (account, effective_at);
CREATE INDEX journal_lines_by_effective ON journal_lines (effective_at);

-- balances: the lines summed per account, currency, dimensions and UTC day
-- (day = floor(effective_at in seconds / 86400)).
CREATE TABLE balances (
    account   TEXT   NOT NULL,
    currency  TEXT   NOT NULL,
    warehouse TEXT   NOT NULL,
    item      TEXT   NOT NULL,
    lot       TEXT   NOT NULL,
    document  TEXT   NOT NULL,
    partner   TEXT   NOT NULL,
    day       BIGINT NOT NULL,
    debit     BIGINT NOT NULL DEFAULT 0,
    credit    BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (account, currency, warehouse, item, lot, document, partner, day)
);
CREATE INDEX balances_by_day ON balances (day);

-- posting_rules: the versions of the posting rules (ledger.RuleSet).
CREATE TABLE posting_rules (
    version     INTEGER NOT NULL,
    key         TEXT    NOT NULL,
    account     TEXT    NOT NULL,
    counter     TEXT    NOT NULL,
    description TEXT    NOT NULL DEFAULT '',
    created_at  BIGINT  NOT NULL,
    PRIMARY KEY (version, key)
);

-- parked_events: events received but not posted, in the order parked (seq).
-- headers is a JSON object of strings.
CREATE TABLE parked_events (
    seq        BIGSERIAL PRIMARY KEY,
    event_id   TEXT   NOT NULL UNIQUE,
    event_type TEXT   NOT NULL DEFAULT '',
    subject    TEXT   NOT NULL DEFAULT '',
    payload    BYTEA  NOT NULL,
    headers    TEXT   NOT NULL DEFAULT '{}',
    reason     TEXT   NOT NULL DEFAULT '',
    parked_at  BIGINT NOT NULL
);
