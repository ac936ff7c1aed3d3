DROP TABLE reason_codes;
