-- Allocation lines keep the order the allocation gave them (FEFO, then FIFO,
-- then lines a pick added), so a retry answers what the first call did.
-- Existing lines are numbered in the order they were read back until now.
ALTER TABLE allocation_lines ADD COLUMN line_no INTEGER NOT NULL DEFAULT 0;
UPDATE allocation_lines al SET line_no = o.n
FROM (SELECT allocation_id, location, lot,
             ROW_NUMBER() OVER (PARTITION BY allocation_id ORDER BY location, lot) - 1 AS n
      FROM allocation_lines) o
WHERE o.allocation_id = al.allocation_id AND o.location = al.location AND o.lot = al.lot;
