DROP TABLE purchase_order_lines;
DROP TABLE purchase_orders;
DROP TABLE catalog_item_codes;
ALTER TABLE catalog_items DROP COLUMN whole_units_only;
ALTER TABLE catalog_items DROP COLUMN uom_factors;
