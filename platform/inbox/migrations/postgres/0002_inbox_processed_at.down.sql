DROP INDEX inbox_processed_at;
