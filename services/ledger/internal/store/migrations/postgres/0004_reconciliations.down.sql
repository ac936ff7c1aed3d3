DROP INDEX journal_entries_by_source_seq;
DROP TABLE reconciliations;
