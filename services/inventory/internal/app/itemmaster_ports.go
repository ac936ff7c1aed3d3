package app

// ItemMasterReader holds the item-master queries beyond Reader's basics
// (lookups by code, audit queries).
type ItemMasterReader interface{}

// ItemMasterTx holds the item-master writes beyond Tx's basics (updates, imports).
type ItemMasterTx interface{}
