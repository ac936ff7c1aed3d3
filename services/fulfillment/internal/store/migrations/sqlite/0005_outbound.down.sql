DROP TABLE shipment_cartons;
DROP TABLE shipment_lines;
DROP TABLE shipments;
DROP TABLE staged_parts;
DROP TABLE outbound_lines;
DROP TABLE outbound_orders;
ALTER TABLE tasks DROP COLUMN wave;
ALTER TABLE tasks DROP COLUMN allocation;
ALTER TABLE tasks DROP COLUMN order_line;
