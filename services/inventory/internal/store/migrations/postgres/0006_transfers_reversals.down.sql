DROP INDEX movements_by_returns;
ALTER TABLE movements DROP COLUMN returns;
DROP TABLE transfer_layers;
DROP TABLE transfers;
DROP INDEX movements_by_reverses;
ALTER TABLE movements DROP COLUMN reverses;
ALTER TABLE movements DROP COLUMN transfer_id;
