-- Ageing reports (GRNI ageing, shipped-not-invoiced) read the lines of one
-- account by document: a page of purchase orders' GRNI lines, an order's
-- COGS lines, and whether an invoice has a revenue line for an order and
-- item.
CREATE INDEX journal_lines_by_account_document ON journal_lines (account, document, item);
