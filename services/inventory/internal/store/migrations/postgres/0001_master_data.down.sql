DROP TABLE locations;
DROP TABLE warehouses;
DROP TABLE item_codes;
DROP TABLE item_uoms;
DROP TABLE items;
