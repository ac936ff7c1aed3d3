ALTER TABLE allocation_lines DROP COLUMN line_no;
