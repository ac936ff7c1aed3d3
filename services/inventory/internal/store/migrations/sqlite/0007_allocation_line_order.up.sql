-- Allocation lines keep the order the allocation gave them (FEFO, then FIFO,
-- then lines a pick added), so a retry answers what the first call did.
-- Existing lines are numbered in the order they were read back until now.
ALTER TABLE allocation_lines ADD COLUMN line_no INTEGER NOT NULL DEFAULT 0;
UPDATE allocation_lines SET line_no = (
    SELECT COUNT(*) FROM allocation_lines b
    WHERE b.allocation_id = allocation_lines.allocation_id
      AND (b.location < allocation_lines.location
           OR (b.location = allocation_lines.location AND b.lot < allocation_lines.lot)));
