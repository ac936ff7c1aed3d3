-- Nothing on SQLite: its foreign-key checks take no row locks, and cost
-- little (see postgres/0009 for why PostgreSQL drops journal_lines' keys).
SELECT 1;
