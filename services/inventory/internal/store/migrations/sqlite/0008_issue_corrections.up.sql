-- issue_corrections: what each negative-stock cost correction (a
-- COST_CORRECTION movement) changed of the value of each FIFO issue it
-- corrects, in minor units (negative: the stock issued ahead turned out
-- dearer). A return of such an issue is valued at its corrected cost: the
-- issue's value plus these.
CREATE TABLE issue_corrections (
    issue_id      TEXT   NOT NULL,
    correction_id TEXT   NOT NULL,
    value_minor   BIGINT NOT NULL,
    PRIMARY KEY (issue_id, correction_id)
);
