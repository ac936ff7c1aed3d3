ALTER TABLE posting_rules DROP COLUMN since_version;
ALTER TABLE posting_rules DROP COLUMN roles;
