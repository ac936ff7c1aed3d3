-- How many times a line was reserved after its first (names the next
-- reservation's request id and pick tasks).
ALTER TABLE outbound_lines ADD COLUMN gen INTEGER NOT NULL DEFAULT 0;
