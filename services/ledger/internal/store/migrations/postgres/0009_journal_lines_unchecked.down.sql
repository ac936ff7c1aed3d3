ALTER TABLE journal_lines ADD CONSTRAINT journal_lines_entry_id_fkey FOREIGN KEY (entry_id) REFERENCES journal_entries (id);
ALTER TABLE journal_lines ADD CONSTRAINT journal_lines_account_fkey FOREIGN KEY (account) REFERENCES accounts (code);
