DROP TABLE parked_events;
DROP TABLE posting_rules;
DROP TABLE balances;
DROP TABLE journal_lines;
DROP TABLE journal_entries;
