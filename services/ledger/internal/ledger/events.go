package ledger

// AccountCreated is the fact that an account was added to the chart of accounts.
type AccountCreated struct{ Account Account }
