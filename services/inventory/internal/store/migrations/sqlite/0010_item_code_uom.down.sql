ALTER TABLE item_codes DROP COLUMN uom;
