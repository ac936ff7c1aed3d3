-- Per-row backoff and parking. A row the broker refuses waits until
-- next_attempt_at (growing with attempts) instead of pausing the whole
-- relay; after Options.MaxAttempts refusals while the broker accepts other
-- rows it is parked (parked_at) and left alone until an operator retries it
-- (trueup outbox retry). Times follow the table's convention: TIMESTAMP,
-- bound from Go with sqldb.Timestamp/Now.
ALTER TABLE outbox ADD COLUMN next_attempt_at TIMESTAMP;
ALTER TABLE outbox ADD COLUMN parked_at TIMESTAMP;
-- No new index: the relay's scan keeps using outbox_unsent, and parked rows
-- are few (each one is an alert). Adding only nullable columns keeps this
-- migration instant on PostgreSQL however many sent rows the table holds,
-- where building an index would block writers while it scans them all.
