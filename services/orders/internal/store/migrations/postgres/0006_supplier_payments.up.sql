-- What supplier payments settled of each bill, and when the bill falls due
-- (bill_date plus the supplier's terms; '' for bills recorded before).
ALTER TABLE supplier_bills ADD COLUMN due_date TEXT NOT NULL DEFAULT '';
ALTER TABLE supplier_bills ADD COLUMN paid_minor BIGINT NOT NULL DEFAULT 0;
ALTER TABLE supplier_bills ADD COLUMN paid_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE purchase_orders ADD COLUMN paid_at BIGINT NOT NULL DEFAULT 0;
CREATE INDEX supplier_bills_payable ON supplier_bills (supplier_code, currency_code, due_date) WHERE state = 'APPROVED';

-- Payments to suppliers and what each applied to which bill.
-- unapplied_minor is a prepayment left on the payment.
CREATE TABLE supplier_payments (
    id              TEXT PRIMARY KEY,
    supplier_code   TEXT   NOT NULL REFERENCES suppliers (code),
    currency_code   TEXT   NOT NULL,
    partner         TEXT   NOT NULL,
    amount_minor    BIGINT NOT NULL,
    unapplied_minor BIGINT NOT NULL,
    method          TEXT   NOT NULL,
    reference       TEXT   NOT NULL,
    paid_at         BIGINT NOT NULL,
    created_at      BIGINT NOT NULL
);
CREATE INDEX supplier_payments_by_supplier ON supplier_payments (supplier_code, id);
CREATE INDEX supplier_payments_by_partner ON supplier_payments (partner, id);

CREATE TABLE supplier_payment_applications (
    payment_id   TEXT   NOT NULL REFERENCES supplier_payments (id),
    bill_id      TEXT   NOT NULL REFERENCES supplier_bills (id),
    amount_minor BIGINT NOT NULL,
    PRIMARY KEY (payment_id, bill_id)
);
CREATE INDEX supplier_payment_applications_by_bill ON supplier_payment_applications (bill_id);
