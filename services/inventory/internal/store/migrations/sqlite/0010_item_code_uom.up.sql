-- The unit of measure one scan (or mention) of an item code counts: the base
-- unit or one of the item's item_uoms ('CS' for the barcode printed on a
-- case). '' means the base unit, so codes stored before this column count the
-- base unit, as they always did. Not part of the key: a code names one unit.
ALTER TABLE item_codes ADD COLUMN uom TEXT NOT NULL DEFAULT '';
