-- The retention purge deletes by age, a chunk at a time; without an index
-- each chunk would scan the whole table while holding the write lock.
CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);
