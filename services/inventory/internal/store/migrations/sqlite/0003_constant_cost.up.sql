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
SELECT warehouse, sku, SUM(CASE WHEN qty_remaining <> 0 THEN 1 ELSE 0 END), SUM(qty_remaining),
       SUM(CASE WHEN qty_remaining <> 0 THEN value_remaining ELSE 0 END)
FROM cost_layers GROUP BY warehouse, sku;

INSERT INTO cost_lots (warehouse, sku, lot, qty_open, value_open, stock_qty, stock_value, negatives)
SELECT warehouse, sku, lot, SUM(qty_remaining),
       SUM(CASE WHEN qty_remaining <> 0 THEN value_remaining ELSE 0 END),
       SUM(CASE WHEN qty_remaining > 0 THEN qty_remaining ELSE 0 END),
       SUM(CASE WHEN qty_remaining > 0 THEN value_remaining ELSE 0 END),
       SUM(CASE WHEN qty_remaining < 0 THEN 1 ELSE 0 END)
FROM cost_layers GROUP BY warehouse, sku, lot;

-- A layer's item, warehouse and lot never change; its remaining quantity and
-- value do. Each trigger adds what the row now counts and takes away what it
-- counted before.
CREATE TRIGGER cost_layers_sums_insert AFTER INSERT ON cost_layers BEGIN
    INSERT INTO cost_books (warehouse, sku, layers, qty_open, value_open)
    VALUES (NEW.warehouse, NEW.sku, CASE WHEN NEW.qty_remaining <> 0 THEN 1 ELSE 0 END, NEW.qty_remaining,
            CASE WHEN NEW.qty_remaining <> 0 THEN NEW.value_remaining ELSE 0 END)
    ON CONFLICT (warehouse, sku) DO UPDATE SET layers = cost_books.layers + excluded.layers,
        qty_open = cost_books.qty_open + excluded.qty_open, value_open = cost_books.value_open + excluded.value_open;
    INSERT INTO cost_lots (warehouse, sku, lot, qty_open, value_open, stock_qty, stock_value, negatives)
    VALUES (NEW.warehouse, NEW.sku, NEW.lot, NEW.qty_remaining,
            CASE WHEN NEW.qty_remaining <> 0 THEN NEW.value_remaining ELSE 0 END,
            CASE WHEN NEW.qty_remaining > 0 THEN NEW.qty_remaining ELSE 0 END,
            CASE WHEN NEW.qty_remaining > 0 THEN NEW.value_remaining ELSE 0 END,
            CASE WHEN NEW.qty_remaining < 0 THEN 1 ELSE 0 END)
    ON CONFLICT (warehouse, sku, lot) DO UPDATE SET qty_open = cost_lots.qty_open + excluded.qty_open,
        value_open = cost_lots.value_open + excluded.value_open, stock_qty = cost_lots.stock_qty + excluded.stock_qty,
        stock_value = cost_lots.stock_value + excluded.stock_value, negatives = cost_lots.negatives + excluded.negatives;
END;

CREATE TRIGGER cost_layers_sums_update AFTER UPDATE OF qty_remaining, value_remaining ON cost_layers BEGIN
    UPDATE cost_books SET
        layers = layers + (CASE WHEN NEW.qty_remaining <> 0 THEN 1 ELSE 0 END) - (CASE WHEN OLD.qty_remaining <> 0 THEN 1 ELSE 0 END),
        qty_open = qty_open + NEW.qty_remaining - OLD.qty_remaining,
        value_open = value_open + (CASE WHEN NEW.qty_remaining <> 0 THEN NEW.value_remaining ELSE 0 END)
                                - (CASE WHEN OLD.qty_remaining <> 0 THEN OLD.value_remaining ELSE 0 END)
    WHERE warehouse = NEW.warehouse AND sku = NEW.sku;
    UPDATE cost_lots SET
        qty_open = qty_open + NEW.qty_remaining - OLD.qty_remaining,
        value_open = value_open + (CASE WHEN NEW.qty_remaining <> 0 THEN NEW.value_remaining ELSE 0 END)
                                - (CASE WHEN OLD.qty_remaining <> 0 THEN OLD.value_remaining ELSE 0 END),
        stock_qty = stock_qty + (CASE WHEN NEW.qty_remaining > 0 THEN NEW.qty_remaining ELSE 0 END)
                              - (CASE WHEN OLD.qty_remaining > 0 THEN OLD.qty_remaining ELSE 0 END),
        stock_value = stock_value + (CASE WHEN NEW.qty_remaining > 0 THEN NEW.value_remaining ELSE 0 END)
                                  - (CASE WHEN OLD.qty_remaining > 0 THEN OLD.value_remaining ELSE 0 END),
        negatives = negatives + (CASE WHEN NEW.qty_remaining < 0 THEN 1 ELSE 0 END) - (CASE WHEN OLD.qty_remaining < 0 THEN 1 ELSE 0 END)
    WHERE warehouse = NEW.warehouse AND sku = NEW.sku AND lot = NEW.lot;
END;

CREATE TRIGGER cost_layers_sums_delete AFTER DELETE ON cost_layers BEGIN
    UPDATE cost_books SET
        layers = layers - (CASE WHEN OLD.qty_remaining <> 0 THEN 1 ELSE 0 END),
        qty_open = qty_open - OLD.qty_remaining,
        value_open = value_open - (CASE WHEN OLD.qty_remaining <> 0 THEN OLD.value_remaining ELSE 0 END)
    WHERE warehouse = OLD.warehouse AND sku = OLD.sku;
    UPDATE cost_lots SET
        qty_open = qty_open - OLD.qty_remaining,
        value_open = value_open - (CASE WHEN OLD.qty_remaining <> 0 THEN OLD.value_remaining ELSE 0 END),
        stock_qty = stock_qty - (CASE WHEN OLD.qty_remaining > 0 THEN OLD.qty_remaining ELSE 0 END),
        stock_value = stock_value - (CASE WHEN OLD.qty_remaining > 0 THEN OLD.value_remaining ELSE 0 END),
        negatives = negatives - (CASE WHEN OLD.qty_remaining < 0 THEN 1 ELSE 0 END)
    WHERE warehouse = OLD.warehouse AND sku = OLD.sku AND lot = OLD.lot;
END;

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
