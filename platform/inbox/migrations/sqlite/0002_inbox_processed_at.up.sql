-- The retention purge deletes by age, a chunk at a time; without an index
-- each chunk would scan the whole table while holding the write lock.
CREATE INDEX inbox_processed_at ON inbox (processed_at);
