-- Stock commands that cost the same whatever the history: a command reads only
-- the cost layers it touches (through the partial indexes below), and the sums
-- over every open layer of an item x warehouse (and lot) that costing and the
-- valuation need are kept up to date, row by row, by triggers on cost_layers.

-- The open layers (qty_remaining <> 0) of one item in one warehouse: how many,
-- and their quantity and value.
CREATE TABLE cost_books (
    warehouse  TEXT    NOT NULL,
    sku        TEXT    NOT NULL,
    layers     BIGINT  NOT NULL,
    qty_open   BIGINT  NOT NULL,
    value_open BIGINT  NOT NULL,
    PRIMARY KEY (warehouse, sku)
);
CREATE INDEX cost_books_by_item ON cost_books (sku);

-- The same per lot, with what of it holds stock (layers with qty_remaining > 0:
-- the current cost of the lot) and how many of its layers are negative.
CREATE TABLE cost_lots (
    warehouse   TEXT   NOT NULL,
    sku         TEXT   NOT NULL,
    lot         TEXT   NOT NULL,
    qty_open    BIGINT NOT NULL,
    value_open  BIGINT NOT NULL,
    stock_qty   BIGINT NOT NULL,
    stock_value BIGINT NOT NULL,
    negatives   BIGINT NOT NULL,
    PRIMARY KEY (warehouse, sku, lot)
);

-- Every item x warehouse (and lot) that ever had a layer gets its row, open or
-- not: the valuation pages through these rows.
INSERT INTO cost_books (warehouse, sku, layers, qty_open, value_open)
SELECT warehouse, sku, CAST(SUM(CASE WHEN qty_remaining <> 0 THEN 1 ELSE 0 END) AS BIGINT), CAST(SUM(qty_remaining) AS BIGINT),
       CAST(SUM(CASE WHEN qty_remaining <> 0 THEN value_remaining ELSE 0 END) AS BIGINT)
FROM cost_layers GROUP BY warehouse, sku;

INSERT INTO cost_lots (warehouse, sku, lot, qty_open, value_open, stock_qty, stock_value, negatives)
SELECT warehouse, sku, lot, CAST(SUM(qty_remaining) AS BIGINT),
       CAST(SUM(CASE WHEN qty_remaining <> 0 THEN value_remaining ELSE 0 END) AS BIGINT),
       CAST(SUM(CASE WHEN qty_remaining > 0 THEN qty_remaining ELSE 0 END) AS BIGINT),
       CAST(SUM(CASE WHEN qty_remaining > 0 THEN value_remaining ELSE 0 END) AS BIGINT),
       CAST(SUM(CASE WHEN qty_remaining < 0 THEN 1 ELSE 0 END) AS BIGINT)
FROM cost_layers GROUP BY warehouse, sku, lot;

-- A layer's item, warehouse and lot never change; its remaining quantity and
-- value do. The trigger adds what the row now counts and takes away what it
-- counted before.
CREATE FUNCTION cost_layers_sums() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    w TEXT; s TEXT; l TEXT;
    d_layers BIGINT := 0; d_qty BIGINT := 0; d_value BIGINT := 0;
    d_sqty BIGINT := 0; d_svalue BIGINT := 0; d_neg BIGINT := 0;
BEGIN
    IF TG_OP <> 'DELETE' THEN
        w := NEW.warehouse; s := NEW.sku; l := NEW.lot;
        IF NEW.qty_remaining <> 0 THEN
            d_layers := 1; d_qty := NEW.qty_remaining; d_value := NEW.value_remaining;
        END IF;
        IF NEW.qty_remaining > 0 THEN
            d_sqty := NEW.qty_remaining; d_svalue := NEW.value_remaining;
        ELSIF NEW.qty_remaining < 0 THEN
            d_neg := 1;
        END IF;
    END IF;
    IF TG_OP <> 'INSERT' THEN
        w := OLD.warehouse; s := OLD.sku; l := OLD.lot;
        IF OLD.qty_remaining <> 0 THEN
            d_layers := d_layers - 1; d_qty := d_qty - OLD.qty_remaining; d_value := d_value - OLD.value_remaining;
        END IF;
        IF OLD.qty_remaining > 0 THEN
            d_sqty := d_sqty - OLD.qty_remaining; d_svalue := d_svalue - OLD.value_remaining;
        ELSIF OLD.qty_remaining < 0 THEN
            d_neg := d_neg - 1;
        END IF;
    END IF;
    INSERT INTO cost_books (warehouse, sku, layers, qty_open, value_open) VALUES (w, s, d_layers, d_qty, d_value)
    ON CONFLICT (warehouse, sku) DO UPDATE SET layers = cost_books.layers + excluded.layers,
        qty_open = cost_books.qty_open + excluded.qty_open, value_open = cost_books.value_open + excluded.value_open;
    INSERT INTO cost_lots (warehouse, sku, lot, qty_open, value_open, stock_qty, stock_value, negatives)
    VALUES (w, s, l, d_qty, d_value, d_sqty, d_svalue, d_neg)
    ON CONFLICT (warehouse, sku, lot) DO UPDATE SET qty_open = cost_lots.qty_open + excluded.qty_open,
        value_open = cost_lots.value_open + excluded.value_open, stock_qty = cost_lots.stock_qty + excluded.stock_qty,
        stock_value = cost_lots.stock_value + excluded.stock_value, negatives = cost_lots.negatives + excluded.negatives;
    RETURN NULL;
END $$;

CREATE TRIGGER cost_layers_sums AFTER INSERT OR DELETE OR UPDATE OF qty_remaining, value_remaining ON cost_layers
    FOR EACH ROW EXECUTE FUNCTION cost_layers_sums();

-- What a command reads of the layers: the oldest layers of a lot that hold
-- stock (an issue), its negative layers (stock in fills them), and the newest
-- layer that came in at a cost (the current cost when nothing is open).
CREATE INDEX cost_layers_stock ON cost_layers (sku, warehouse, lot, seq) WHERE qty_remaining > 0;
CREATE INDEX cost_layers_negative ON cost_layers (sku, warehouse, lot, seq) WHERE qty_remaining < 0;
CREATE INDEX cost_layers_costed ON cost_layers (sku, warehouse, seq) WHERE qty_in > 0;
-- Every read of an item's layers now names the part it wants: the plain
-- (sku, warehouse, seq) index only lured SQLite's planner away from the
-- partial ones, into a scan of every layer the item ever had.
DROP INDEX cost_layers_by_item;

-- A serial number's stock across locations (LotOnHand).
CREATE INDEX stock_levels_by_lot ON stock_levels (sku, lot);

-- Valuation as of a past time, per item (any warehouse), and the journal by
-- record time (ListMovements' time range, valuation of everything as of).
CREATE INDEX movements_by_item_time ON movements (sku, created_at);
CREATE INDEX movements_by_created ON movements (created_at, seq);
