-- Back to one entry per event: fails if an event has posted several.
DROP INDEX journal_entries_by_event;
CREATE UNIQUE INDEX journal_entries_by_event ON journal_entries (source_event_id) WHERE source_event_id <> '';
