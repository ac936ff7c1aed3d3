// Package e2e holds the end-to-end tests of the whole suite: they start every
// service in one process (suite.Start: embedded NATS, SQLite or PostgreSQL)
// and drive it only through its public interfaces — REST through the gateway
// as a partner, gRPC as the company's own apps — then check what a controller
// checks: the trial balance is zero, the books reconcile to the warehouse's
// valuation, and every event posted exactly once even when delivered twice
// and out of order. The package has no code outside its tests.
package e2e
