CREATE TABLE stamps (
    n  BIGINT PRIMARY KEY,
    at TIMESTAMPTZ NOT NULL
);
CREATE INDEX stamps_at ON stamps (at);
