ALTER TABLE outbox DROP COLUMN parked_at;
ALTER TABLE outbox DROP COLUMN next_attempt_at;
