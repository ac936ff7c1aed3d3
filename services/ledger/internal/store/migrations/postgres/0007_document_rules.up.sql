-- Document posting rules (orders' bills, invoices and payments) map roles to
-- accounts instead of naming an account and a counter account: roles is a
-- JSON object of role -> account code ('{}' for a movement rule, whose
-- account and counter stay in their columns; a document rule leaves those
-- ''). since_version is the version in which the rule took its form (added
-- or last changed); 0 for rows written before it existed, read as the row's
-- own version.
ALTER TABLE posting_rules ADD COLUMN roles TEXT NOT NULL DEFAULT '{}';
ALTER TABLE posting_rules ADD COLUMN since_version INTEGER NOT NULL DEFAULT 0;
