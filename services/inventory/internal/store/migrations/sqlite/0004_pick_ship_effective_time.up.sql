-- Pick, then ship; effective time; what a movement entered and corrects.

-- When the movement happened, as the command said (unix micros); created_at
-- stays the record time. Older rows happened when they were recorded.
ALTER TABLE movements ADD COLUMN effective_at BIGINT NOT NULL DEFAULT 0;
UPDATE movements SET effective_at = created_at;
-- The unit cost as entered (decimal and unit, in the movement's currency),
-- for stock that came in at a given cost; '' when valued at current cost.
ALTER TABLE movements ADD COLUMN cost_amount TEXT NOT NULL DEFAULT '';
ALTER TABLE movements ADD COLUMN cost_uom TEXT NOT NULL DEFAULT '';
-- The reason code's category (0: none), which the ledger maps to an account.
ALTER TABLE movements ADD COLUMN reason_category INTEGER NOT NULL DEFAULT 0;
-- A cost correction's corrected issue movements, space-separated ids.
ALTER TABLE movements ADD COLUMN corrects TEXT NOT NULL DEFAULT '';

-- Picked stock waiting in a staging or shipping location, still reserved.
CREATE TABLE allocation_staged (
    allocation_id TEXT   NOT NULL REFERENCES allocations (id),
    location      TEXT   NOT NULL,
    lot           TEXT   NOT NULL,
    picked_from   TEXT   NOT NULL,
    qty           BIGINT NOT NULL,
    shipped       BIGINT NOT NULL DEFAULT 0,
    returned      BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (allocation_id, location, lot, picked_from)
);

-- ListAllocations by order, oldest first.
CREATE INDEX allocations_by_order ON allocations (order_type, order_id, id);
