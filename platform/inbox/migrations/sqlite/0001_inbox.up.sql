-- One row per event a consumer has applied. The primary key is the
-- idempotency check: a second delivery of the same event finds its row.
CREATE TABLE inbox (
    consumer     TEXT      NOT NULL,
    event_id     TEXT      NOT NULL,
    processed_at TIMESTAMP NOT NULL,
    PRIMARY KEY (consumer, event_id)
);
