DROP TABLE allocation_lines;
DROP TABLE allocations;
DROP TABLE movement_layers;
DROP TABLE cost_layers;
DROP TABLE movements;
DROP TABLE stock_levels;
DROP TABLE lots;
ALTER TABLE items DROP COLUMN allow_negative;
