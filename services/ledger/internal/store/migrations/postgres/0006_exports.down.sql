DROP TABLE journal_entry_exports;
DROP TABLE export_batch_entries;
DROP TABLE export_batches;
