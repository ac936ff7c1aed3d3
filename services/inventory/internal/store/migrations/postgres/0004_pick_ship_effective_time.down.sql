DROP INDEX allocations_by_order;
DROP TABLE allocation_staged;
ALTER TABLE movements DROP COLUMN corrects;
ALTER TABLE movements DROP COLUMN reason_category;
ALTER TABLE movements DROP COLUMN cost_uom;
ALTER TABLE movements DROP COLUMN cost_amount;
ALTER TABLE movements DROP COLUMN effective_at;
