-- Timestamps are unix microseconds (UTC) in BIGINT columns on both dialects.
-- type: the domain's AccountType (1 asset, 2 liability, 3 equity, 4 revenue, 5 expense).
CREATE TABLE accounts (
    code          TEXT PRIMARY KEY,
    display_name  TEXT    NOT NULL,
    type          INTEGER NOT NULL CHECK (type BETWEEN 1 AND 5),
    currency_code TEXT    NOT NULL,
    created_at    BIGINT  NOT NULL
);
