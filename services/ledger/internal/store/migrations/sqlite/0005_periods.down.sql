DROP INDEX journal_entries_by_period;
ALTER TABLE journal_entries DROP COLUMN adjusting;
ALTER TABLE journal_entries DROP COLUMN posting_period;
DROP TABLE periods;
