-- Events written in the same transaction as the state change they describe,
-- relayed to NATS JetStream afterwards. seq orders the relay; id is the
-- event id and the Nats-Msg-Id.
CREATE TABLE outbox (
    seq         INTEGER   PRIMARY KEY AUTOINCREMENT,
    id          TEXT      NOT NULL UNIQUE,
    subject     TEXT      NOT NULL,
    type        TEXT      NOT NULL,
    payload     BLOB      NOT NULL,
    headers     TEXT      NOT NULL DEFAULT '{}', -- JSON object of strings
    occurred_at TIMESTAMP NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    sent_at     TIMESTAMP,
    attempts    INTEGER   NOT NULL DEFAULT 0,
    last_error  TEXT
);
-- The relay's scan: unsent rows in seq order. Partial, so it stays as small
-- as the backlog.
CREATE INDEX outbox_unsent ON outbox (seq) WHERE sent_at IS NULL;
-- The retention purge.
CREATE INDEX outbox_sent_at ON outbox (sent_at) WHERE sent_at IS NOT NULL;
