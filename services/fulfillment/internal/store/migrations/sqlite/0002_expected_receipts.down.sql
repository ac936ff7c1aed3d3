DROP TABLE expected_receipt_lines;
DROP TABLE expected_receipts;
