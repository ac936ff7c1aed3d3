package store_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"trueup.dev/platform/outbox"
	"trueup.dev/platform/sqldb"
	"trueup.dev/platform/testkit/ceiling"
	"trueup.dev/platform/testkit/outboxtest"
	"trueup.dev/platform/testkit/pgtest"
	"trueup.dev/services/inventory/internal/app"
	"trueup.dev/services/inventory/internal/events"
	"trueup.dev/services/inventory/internal/inventory"
	"trueup.dev/services/inventory/internal/store"
)

// BenchmarkStockCommands measures receipts/s and issues/s of FIFO items
// through the app (each command its own transaction: claim, level, journal,
// cost layers, outbox row), on items with 10 and with 100,000 prior
// movements, on both dialects: at concurrency 1 and 16 on one item
// (items=1: the item lock serialises them on PostgreSQL), and at concurrency
// 16 with each worker driving an item of its own (items=16: sixteen scanners
// on sixteen SKUs, the realistic case). Each database's single-row commit
// ceiling is measured in the same run (ratio_to_ceiling), and the
// 100,000-movement figures are reported against the 10-movement ones
// (ratio_100k_to_10): a stock command should cost the same whatever the
// history. The history is the one BenchmarkReceiveThenIssue builds (receive
// a case of 12, issue 7, over and over), written in one transaction per
// item: after 100,000 movements an item holds about 20,800 open cost layers.
// The first item (the one of items=1) gets the full history; the fifteen
// others of items=16 at most otherHistory movements each, since writing
// 16 × 100,000 movements takes minutes (so at history=100000, items=16 runs
// on one item of 100,000 movements and fifteen of 10,000).
//
// SQLite runs with the production settings (synchronous=FULL, as `trueup
// dev` and `trueup serve` use), ceiling included; commands/commit is the
// mean number of commands sqldb grouped into one commit.
func BenchmarkStockCommands(b *testing.B) {
	const otherHistory = 10_000
	type key struct {
		dialect  sqldb.Dialect
		op       string
		c, items int
	}
	type run struct{ c, items int }
	runs := []run{{1, 1}, {16, 1}, {16, 16}}
	skus := make([]string, 16) // skus[0] is the one item of items=1
	for i := range skus {
		skus[i] = fmt.Sprintf("B%02d", i)
	}
	base := map[key]float64{}
	var seq atomic.Int64
	for _, dialect := range []sqldb.Dialect{sqldb.SQLite, sqldb.Postgres} {
		b.Run(string(dialect), func(b *testing.B) {
			for _, history := range []int{10, 100_000} {
				b.Run(fmt.Sprintf("history=%d", history), func(b *testing.B) {
					db := openProductionSQLite(b)
					if dialect == sqldb.Postgres {
						db = pgtest.OpenPostgres(b)
					}
					svc := benchService(b, db, skus)
					for i, sku := range skus {
						n := history
						if i > 0 { // writing 16 × 100,000 movements takes minutes
							n = min(history, otherHistory)
						}
						writeHistory(b, db, sku, int64(i)*int64(history), n)
					}
					ceil := ceiling.Commits(b, db, time.Second)
					for _, op := range []string{"receipts", "issues"} {
						for _, r := range runs {
							b.Run(fmt.Sprintf("%s/c=%d/items=%d", op, r.c, r.items), func(b *testing.B) {
								ctx := context.Background()
								if op == "issues" { // enough stock for b.N issues of 7 of each item, in a layer of its own
									for _, sku := range skus[:r.items] {
										if _, err := svc.ReceiveStock(ctx, app.Receive{Source: poSrc, RequestID: fmt.Sprint("top-", seq.Add(1)), SKU: sku, Warehouse: "W1",
											Location: "A1", Quantity: app.Quantity{Value: fmt.Sprint(7 * b.N), UoM: "EA"}, Cost: app.UnitCost{Currency: "USD", Amount: "1.03"}}); err != nil {
											b.Fatal(err)
										}
									}
								}
								g0, m0 := db.WriteGroups()
								rate := parallel(b, r.c, func(worker int) error {
									n := seq.Add(1)
									sku := skus[worker%r.items]
									if op == "receipts" {
										_, err := svc.ReceiveStock(ctx, app.Receive{Source: poSrc, RequestID: fmt.Sprint("r", n), SKU: sku, Warehouse: "W1", Location: "A1",
											Quantity: app.Quantity{Value: "1", UoM: "CS"}, Cost: app.UnitCost{Currency: "USD", Amount: "12.34"}})
										return err
									}
									_, err := svc.IssueStock(ctx, app.Issue{Source: shipSrc, RequestID: fmt.Sprint("i", n), SKU: sku, Warehouse: "W1", Location: "A1",
										Quantity: app.Quantity{Value: "7", UoM: "EA"}})
									return err
								})
								if g1, m1 := db.WriteGroups(); g1 > g0 {
									b.ReportMetric(float64(m1-m0)/float64(g1-g0), "commands/commit")
								}
								b.ReportMetric(rate, op+"/s")
								b.ReportMetric(ceil, "ceiling_commits/s")
								b.ReportMetric(rate/ceil, "ratio_to_ceiling")
								k := key{dialect, op, r.c, r.items}
								if history == 10 {
									base[k] = rate
								} else if base[k] > 0 {
									b.ReportMetric(rate/base[k], "ratio_100k_to_10")
								}
							})
						}
					}
				})
			}
		})
	}
}

// parallel runs op b.N times on c goroutines (op is told which, 0 to c-1)
// and returns the rate per second.
func parallel(b *testing.B, c int, op func(worker int) error) float64 {
	b.Helper()
	var next atomic.Int64
	var wg sync.WaitGroup
	var once sync.Once
	var failed error
	b.ResetTimer()
	start := time.Now()
	for worker := range c {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(b.N) {
				if err := op(worker); err != nil {
					once.Do(func() { failed = err })
					return
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	if failed != nil {
		b.Fatal(failed)
	}
	return float64(b.N) / elapsed.Seconds()
}

func benchService(b *testing.B, db *sqldb.DB, skus []string) *app.Service {
	b.Helper()
	ctx := context.Background()
	if err := store.Migrate(ctx, db); err != nil {
		b.Fatal(err)
	}
	svc := app.New(store.New(db, outbox.New(db, outboxtest.Discard{}, outbox.Options{}), events.Encode), nil)
	if _, err := svc.CreateWarehouse(ctx, "", inventory.Warehouse{Code: "W1", DisplayName: "W"}); err != nil {
		b.Fatal(err)
	}
	if _, err := svc.CreateLocation(ctx, "", "W1", inventory.Location{Code: "A1", Type: inventory.LocationStorage}); err != nil {
		b.Fatal(err)
	}
	for _, sku := range skus {
		if _, err := svc.CreateItem(ctx, "", inventory.Item{SKU: sku, Description: "Bench", BaseUoM: "EA", Conversions: []inventory.UoMConversion{{UoM: "CS", Factor: "12"}}}); err != nil {
			b.Fatal(err)
		}
	}
	return svc
}

// writeHistory writes n movements of item sku in W1/A1, journal sequence
// numbers from seq0+1, as n/2 receipts of a
// case of 12 at 12.34 alternating with issues of 7 EA, costed FIFO by the
// cumulative rule exactly as the app would (inventory.Cumulative): the
// journal, the layers each issue took, the cost layers as they end up, the
// lot and the level, in one transaction, in multi-row INSERTs.
func writeHistory(b *testing.B, db *sqldb.DB, sku string, seq0 int64, n int) {
	b.Helper()
	ctx := context.Background()
	const (
		caseQty   = inventory.Qty(12_000_000)
		issueQty  = inventory.Qty(7_000_000)
		caseValue = int64(1234)
	)
	start := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC).UnixMicro()
	type layer struct {
		id    string
		seq   int64
		taken inventory.Qty
		value int64 // taken so far
		at    int64
	}
	var layers []*layer
	head := 0
	var moves, takes [][]any
	var onHand inventory.Qty
	for i := range n {
		seq, at := seq0+int64(i+1), start+int64(i)
		id := fmt.Sprintf("hist-%s-%d", sku, i)
		if i%2 == 0 {
			layers = append(layers, &layer{id: id, seq: seq, at: at})
			moves = append(moves, []any{seq, id, int(inventory.MoveReceipt), sku, "W1", "", "A1", "1", "CS", int64(caseQty), caseValue, "USD",
				int(poSrc.Type), poSrc.ID, poSrc.Line, at})
			onHand += caseQty
			continue
		}
		short, value := issueQty, int64(0)
		for short > 0 && head < len(layers) {
			l := layers[head]
			k := min(short, caseQty-l.taken)
			v := inventory.Cumulative(caseValue, l.taken+k, caseQty) - l.value
			l.taken, l.value, short, value = l.taken+k, l.value+v, short-k, value+v
			takes = append(takes, []any{id, l.id, int64(k), v})
			if l.taken == caseQty {
				head++
			}
		}
		if short > 0 { // only in the first steps; the bench item does not go negative
			continue
		}
		moves = append(moves, []any{seq, id, int(inventory.MoveIssue), sku, "W1", "A1", "", "7", "EA", -int64(issueQty), -value, "USD",
			int(shipSrc.Type), shipSrc.ID, shipSrc.Line, at})
		onHand -= issueQty
	}
	var rows [][]any
	for _, l := range layers {
		rows = append(rows, []any{l.id, l.seq, sku, "W1", "", "USD", int64(caseQty), caseValue, int64(caseQty - l.taken), caseValue - l.value, l.at, l.id})
	}
	err := db.WithTx(ctx, func(tx *sqldb.Tx) error {
		if err := insertRows(ctx, tx, `INSERT INTO lots (sku, lot, expiry_date, first_received_at) VALUES `, [][]any{{sku, "", "", start}}); err != nil {
			return err
		}
		if err := insertRows(ctx, tx, `INSERT INTO stock_levels (warehouse, location, sku, lot, on_hand, allocated, received_at) VALUES `,
			[][]any{{"W1", "A1", sku, "", int64(onHand), int64(0), start}}); err != nil {
			return err
		}
		if err := insertRows(ctx, tx, `INSERT INTO movements (seq, id, type, sku, warehouse, from_location, to_location, entered_qty, entered_uom,
			base_qty, value_minor, currency, source_type, source_id, source_line, created_at) VALUES `, moves); err != nil {
			return err
		}
		if err := insertRows(ctx, tx, `INSERT INTO movement_layers (movement_id, layer_id, qty, value_minor) VALUES `, takes); err != nil {
			return err
		}
		if err := insertRows(ctx, tx, `INSERT INTO cost_layers (id, seq, sku, warehouse, lot, currency, qty_in, value_in, qty_remaining, value_remaining,
			received_at, movement_id) VALUES `, rows); err != nil {
			return err
		}
		if db.Dialect == sqldb.Postgres {
			_, err := tx.ExecContext(ctx, `SELECT setval(pg_get_serial_sequence('movements', 'seq'), (SELECT MAX(seq) FROM movements))`)
			return err
		}
		return nil
	})
	if err != nil {
		b.Fatalf("write history of %d movements of %s: %v", n, sku, err)
	}
	if db.Dialect == sqldb.Postgres {
		if _, err := db.ExecContext(ctx, `ANALYZE`); err != nil {
			b.Fatal(err)
		}
	}
}

// insertRows inserts rows with prefix ("INSERT INTO t (...) VALUES "), a few
// dozen to a statement (SQLite looks $n names up in a list, so big statements get slow).
func insertRows(ctx context.Context, tx *sqldb.Tx, prefix string, rows [][]any) error {
	for len(rows) > 0 {
		chunk := rows[:min(len(rows), 50)]
		rows = rows[len(chunk):]
		var sb strings.Builder
		sb.WriteString(prefix)
		args := make([]any, 0, len(chunk)*len(chunk[0]))
		for i, r := range chunk {
			if i > 0 {
				sb.WriteString(", ")
			}
			sb.WriteString("(")
			for j, v := range r {
				if j > 0 {
					sb.WriteString(", ")
				}
				args = append(args, v)
				fmt.Fprintf(&sb, "$%d", len(args))
			}
			sb.WriteString(")")
		}
		if _, err := tx.ExecContext(ctx, sb.String(), args...); err != nil {
			return fmt.Errorf("%s: %w", strings.Fields(prefix)[2], err)
		}
	}
	return nil
}

// openProductionSQLite opens a SQLite file with sqldb's production defaults
// (synchronous=FULL, as `trueup dev` and `trueup serve` run), unlike the test
// kit's NORMAL: the ceiling and the commands are measured with the
// durability the product has.
func openProductionSQLite(b *testing.B) *sqldb.DB {
	b.Helper()
	db, err := sqldb.Open(context.Background(), "sqlite://"+filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = db.Close() })
	return db
}
