-- journal_lines loses its foreign keys on PostgreSQL. Each was a trigger per
-- inserted line that took FOR KEY SHARE on the referenced row: on accounts,
-- that is a lock per line on the few hot rows (Inventory, GRNI, COGS) every
-- posting batch touches. Without them BenchmarkPostings at batch 100 ran
-- 20-25% faster (3.5-4.0k against 2.9-3.2k postings/s in the same session;
-- the lines' insert went from ~15 ms to ~5 ms of a ~25 ms batch). What they guarded is checked where the
-- lines are made: ledger.CheckEntry refuses an account not in the chart,
-- accounts are never deleted, and an entry's lines are written in the same
-- transaction as the entry. SQLite keeps them (checked without row locks).
ALTER TABLE journal_lines DROP CONSTRAINT journal_lines_entry_id_fkey;
ALTER TABLE journal_lines DROP CONSTRAINT journal_lines_account_fkey;
