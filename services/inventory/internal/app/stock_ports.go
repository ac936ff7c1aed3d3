package app

// StockReader holds the stock queries: levels, movements, allocations, valuation.
type StockReader interface{}

// StockTx holds the stock writes: levels, journal, cost layers, allocations.
type StockTx interface{}
