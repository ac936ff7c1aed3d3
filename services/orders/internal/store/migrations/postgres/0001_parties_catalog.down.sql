DROP TABLE catalog_items;
DROP TABLE customers;
DROP TABLE suppliers;
