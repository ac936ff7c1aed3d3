-- An event posts one entry per stock movement it carries (a transfer
-- receipt of several cost layers is several TRANSFER_IN movements), so an
-- entry is unique per (event, movement); a document's entry has no
-- movement and stays one per event. Same name: a conflict still reads as
-- "journal entry for event ... already exists".
DROP INDEX journal_entries_by_event;
CREATE UNIQUE INDEX journal_entries_by_event ON journal_entries (source_event_id, source_movement_id) WHERE source_event_id <> '';
