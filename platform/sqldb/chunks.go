package sqldb

import (
	"context"
	"fmt"
)

// DeleteInChunks runs a chunked DELETE until it deletes fewer rows than chunk,
// each run in its own short transaction, and reports how many rows went. The
// statement must delete at most chunk rows, taking it as the last parameter,
// e.g. `DELETE FROM t WHERE id IN (SELECT id FROM t WHERE at < $1 LIMIT $2)`.
//
// It is how retention purges stay out of everyone's way: however much has
// expired, no transaction holds SQLite's write lock (or a PostgreSQL
// transaction open) for more than one chunk, and on SQLite each chunk queues
// for the write slot like any other transaction.
func (db *DB) DeleteInChunks(ctx context.Context, query string, chunk int, args ...any) (int64, error) {
	if chunk <= 0 {
		return 0, fmt.Errorf("sqldb: delete in chunks of %d rows", chunk)
	}
	args = append(args, chunk)
	var total int64
	for {
		var n int64
		err := db.WithTx(ctx, func(tx *Tx) error {
			res, err := tx.ExecContext(ctx, query, args...)
			if err != nil {
				return err
			}
			n, err = res.RowsAffected()
			return err
		})
		if err != nil {
			return total, err
		}
		total += n
		if n < int64(chunk) {
			return total, nil
		}
	}
}
