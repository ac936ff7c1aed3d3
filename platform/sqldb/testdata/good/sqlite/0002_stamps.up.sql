CREATE TABLE stamps (
    n  INTEGER PRIMARY KEY,
    at TIMESTAMP NOT NULL
);
CREATE INDEX stamps_at ON stamps (at);
