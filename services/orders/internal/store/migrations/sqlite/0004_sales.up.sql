-- The parties' commercial terms. partner is '' for a party an internal caller
-- created. credit_limit_minor counts only when has_credit_limit.
ALTER TABLE suppliers ADD COLUMN partner TEXT NOT NULL DEFAULT '';
ALTER TABLE suppliers ADD COLUMN payment_terms_days INTEGER NOT NULL DEFAULT 30;
ALTER TABLE suppliers ADD COLUMN tax_id TEXT NOT NULL DEFAULT '';
ALTER TABLE customers ADD COLUMN partner TEXT NOT NULL DEFAULT '';
ALTER TABLE customers ADD COLUMN payment_terms_days INTEGER NOT NULL DEFAULT 30;
ALTER TABLE customers ADD COLUMN has_credit_limit BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE customers ADD COLUMN credit_limit_minor BIGINT NOT NULL DEFAULT 0;
ALTER TABLE customers ADD COLUMN tax_exempt BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE customers ADD COLUMN default_tax_rate TEXT NOT NULL DEFAULT '0';
ALTER TABLE customers ADD COLUMN tax_id TEXT NOT NULL DEFAULT '';
CREATE INDEX suppliers_by_partner ON suppliers (partner, code);
CREATE INDEX customers_by_partner ON customers (partner, code);

-- Sales orders. confirmed_at and cancelled_at are 0 until it happens.
-- uninvoiced_minor is the order's part of its customer's credit exposure
-- (open quantities priced, tax included; 0 unless CONFIRMED or
-- PARTIALLY_SHIPPED), kept on every save so the credit check reads one sum.
CREATE TABLE sales_orders (
    id                 TEXT PRIMARY KEY,
    customer_code      TEXT   NOT NULL REFERENCES customers (code),
    currency_code      TEXT   NOT NULL,
    partner            TEXT   NOT NULL,
    customer_reference TEXT   NOT NULL,
    state              TEXT   NOT NULL,
    total_minor        BIGINT NOT NULL,
    uninvoiced_minor   BIGINT NOT NULL,
    created_at         BIGINT NOT NULL,
    updated_at         BIGINT NOT NULL,
    confirmed_at       BIGINT NOT NULL,
    cancelled_at       BIGINT NOT NULL,
    version            BIGINT NOT NULL
);
CREATE INDEX sales_orders_by_partner ON sales_orders (partner, id);
CREATE INDEX sales_orders_by_customer ON sales_orders (customer_code, state, id);
CREATE INDEX sales_orders_by_state ON sales_orders (state, id);

-- Quantities are integer millionths of the item's base unit; amounts minor
-- units of the order's currency; quantity, factor, unit_price and tax_rate
-- exact decimals as text.
CREATE TABLE sales_order_lines (
    sales_order_id TEXT    NOT NULL REFERENCES sales_orders (id),
    line_number    INTEGER NOT NULL,
    sku            TEXT    NOT NULL,
    base_uom       TEXT    NOT NULL,
    quantity       TEXT    NOT NULL,
    uom            TEXT    NOT NULL,
    factor         TEXT    NOT NULL,
    base_qty       BIGINT  NOT NULL,
    unit_price     TEXT    NOT NULL,
    tax_rate       TEXT    NOT NULL,
    net_minor      BIGINT  NOT NULL,
    tax_minor      BIGINT  NOT NULL,
    warehouse      TEXT    NOT NULL,
    shipped_qty    BIGINT  NOT NULL,
    cancelled_qty  BIGINT  NOT NULL,
    invoiced_qty   BIGINT  NOT NULL,
    PRIMARY KEY (sales_order_id, line_number)
);

-- Invoices: one per shipment (shipment_id is unique, which is what makes a
-- redelivered or re-sent shipment invoice once). open_minor = total - paid.
CREATE TABLE invoices (
    id             TEXT PRIMARY KEY,
    sales_order_id TEXT   NOT NULL REFERENCES sales_orders (id),
    customer_code  TEXT   NOT NULL,
    shipment_id    TEXT   NOT NULL UNIQUE,
    currency_code  TEXT   NOT NULL,
    partner        TEXT   NOT NULL,
    state          TEXT   NOT NULL,
    total_minor    BIGINT NOT NULL,
    paid_minor     BIGINT NOT NULL,
    open_minor     BIGINT NOT NULL,
    issued_at      BIGINT NOT NULL,
    due_at         BIGINT NOT NULL,
    paid_at        BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL,
    version        BIGINT NOT NULL
);
CREATE INDEX invoices_by_sales_order ON invoices (sales_order_id, id);
CREATE INDEX invoices_by_partner ON invoices (partner, id);
CREATE INDEX invoices_by_customer ON invoices (customer_code, id);
CREATE INDEX invoices_open_by_customer ON invoices (customer_code, currency_code, due_at) WHERE open_minor > 0;

CREATE TABLE invoice_lines (
    invoice_id       TEXT    NOT NULL REFERENCES invoices (id),
    line_number      INTEGER NOT NULL,
    sales_order_line INTEGER NOT NULL,
    sku              TEXT    NOT NULL,
    warehouse        TEXT    NOT NULL,
    quantity         TEXT    NOT NULL,
    uom              TEXT    NOT NULL,
    base_qty         BIGINT  NOT NULL,
    unit_price       TEXT    NOT NULL,
    tax_rate         TEXT    NOT NULL,
    net_minor        BIGINT  NOT NULL,
    tax_minor        BIGINT  NOT NULL,
    PRIMARY KEY (invoice_id, line_number)
);

-- Payments and what each applied to which invoice. unapplied_minor is the
-- customer's credit left on the payment.
CREATE TABLE payments (
    id              TEXT PRIMARY KEY,
    customer_code   TEXT   NOT NULL REFERENCES customers (code),
    currency_code   TEXT   NOT NULL,
    partner         TEXT   NOT NULL,
    amount_minor    BIGINT NOT NULL,
    unapplied_minor BIGINT NOT NULL,
    method          TEXT   NOT NULL,
    reference       TEXT   NOT NULL,
    received_at     BIGINT NOT NULL,
    created_at      BIGINT NOT NULL
);
CREATE INDEX payments_by_customer ON payments (customer_code, id);
CREATE INDEX payments_by_partner ON payments (partner, id);
CREATE INDEX payments_unapplied ON payments (customer_code, currency_code) WHERE unapplied_minor > 0;

CREATE TABLE payment_applications (
    payment_id   TEXT   NOT NULL REFERENCES payments (id),
    invoice_id   TEXT   NOT NULL REFERENCES invoices (id),
    amount_minor BIGINT NOT NULL,
    PRIMARY KEY (payment_id, invoice_id)
);
CREATE INDEX payment_applications_by_invoice ON payment_applications (invoice_id);
