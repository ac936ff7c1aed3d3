ALTER TABLE outbound_lines DROP COLUMN gen;
