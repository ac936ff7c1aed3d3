-- Reason codes: master data with a category the ledger maps to an account.
CREATE TABLE reason_codes (
    code        TEXT     PRIMARY KEY,
    description TEXT     NOT NULL,
    category    SMALLINT NOT NULL,
    active      BOOLEAN  NOT NULL,
    created_at  BIGINT   NOT NULL
);

-- The defaults (inventory.DefaultReasonCodes), one per category; created_at 0
-- marks them as seeded.
INSERT INTO reason_codes (code, description, category, active, created_at) VALUES
    ('SHRINKAGE', 'Stock lost without a known cause', 1, TRUE, 0),
    ('DAMAGED', 'Stock damaged', 2, TRUE, 0),
    ('FOUND', 'Stock found that was not on record', 3, TRUE, 0),
    ('SCRAP', 'Stock scrapped', 4, TRUE, 0),
    ('SAMPLE', 'Stock given away as a sample', 5, TRUE, 0),
    ('WRITE_DOWN', 'Stock written down or off', 6, TRUE, 0),
    ('OPENING_BALANCE', 'Stock on hand at go-live', 7, TRUE, 0),
    ('COUNT_DIFFERENCE', 'Difference found by a count', 8, TRUE, 0);
