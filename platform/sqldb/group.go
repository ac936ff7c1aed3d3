package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Group commit on SQLite.
//
// SQLite writes one transaction at a time, so the write slot (writeGate)
// already runs this process's transactions one after another. A commit is
// the costly step of a short transaction: it writes every page the
// transaction dirtied to the WAL (and with synchronous=FULL syncs the file),
// and the outbox, journal and idempotency tables' pages are the same ones
// for every command. So when a writer finishes while others wait for the
// slot, it does not commit: it leaves the transaction open and hands the
// slot on, and the next writer runs its fn in the same transaction. The last
// writer of the group (no one waiting, or the group is full or old) commits
// for all, and only then does any member's WithTx return: a command is
// acknowledged only once it is durable, exactly as before.
//
// Each member runs inside a SAVEPOINT: when its fn fails (or panics) the
// savepoint is rolled back, undoing that member's writes and nothing else,
// and its WithTx returns the error at once. A member never sees the writes of
// one that failed, and reads the writes of earlier members as committed-to-be
// (they commit together or not at all). If the transaction itself is lost
// midway (a statement error that makes SQLite roll back the whole
// transaction, such as an interrupt from a cancelled context), the members
// that had succeeded get errGroupAborted, which WithTx retries: they run
// again in a new transaction, which is what fn's contract allows anyway.
//
// With one writer at a time, nobody waits, every group has one member, and
// the only cost is the savepoint's two statements.
const (
	// groupMaxMembers and groupMaxAge bound a group, so that the first
	// member's wait for the commit stays short under a long queue.
	groupMaxMembers = 64
	groupMaxAge     = 10 * time.Millisecond
)

// group is a SQLite transaction shared by the writers that held the write
// slot one after another while it was open. Its fields are used only by the
// holder of the write slot, except done and err, which members read after
// done is closed.
type group struct {
	tx      *sql.Tx
	begun   time.Time
	members int
	// misses are the statement texts the members found uncached, prepared
	// once the group has ended.
	misses []string
	// broken is why the transaction can take no more members and must be
	// rolled back (nil while it is usable).
	broken error
	done   chan struct{} // closed once the group committed or rolled back
	err    error         // why the group did not commit, set before done closes
}

// testHookHandOff, when set by a test, runs as a holder hands an open group
// on, before it releases the slot.
var testHookHandOff func()

// errGroupAborted reports a command whose work was undone after it ran,
// because the shared transaction it ran in was lost; WithTx runs it again.
var errGroupAborted = errors.New("sqldb: the shared sqlite transaction was rolled back after this command ran")

// runInGroup is runTx on SQLite: take the write slot, run fn inside a
// savepoint of the open group (or of a new one), hand the slot on or
// commit, and wait for the group's outcome.
func (db *DB) runInGroup(ctx context.Context, fn func(tx *Tx) error) (hooks []func(), err error) {
	if err := db.acquireWriter(ctx); err != nil {
		return nil, err
	}
	g, err := db.joinGroup(ctx)
	if err != nil {
		db.writer.release()
		return nil, err
	}
	tx := &Tx{Tx: g.tx, Dialect: db.Dialect, cache: db.stmts}
	// Savepoint statements run whatever the member's context says: an
	// interrupt there would take the other members' work with it.
	sctx := context.WithoutCancel(ctx)
	if _, err := g.tx.ExecContext(sctx, `SAVEPOINT trueup_member`); err != nil {
		g.broken = err
		db.leave(sctx, g)
		return nil, fmt.Errorf("%w: savepoint: %w", errGroupAborted, err)
	}
	finished := false
	defer func() {
		if !finished { // fn panicked: undo its work, keep the group going, let the panic go on
			g.rollbackMember(sctx)
			db.leave(sctx, g)
		}
	}()
	fnErr := fn(tx)
	finished = true
	if fnErr != nil {
		g.rollbackMember(sctx)
	} else if _, err := g.tx.ExecContext(sctx, `RELEASE trueup_member`); err != nil && g.broken == nil {
		g.broken = err
	}
	tx.mu.Lock()
	g.misses = append(g.misses, tx.misses...)
	hooks = tx.hooks
	tx.mu.Unlock()
	db.leave(sctx, g)
	if fnErr != nil {
		return nil, fnErr // its writes were undone; the group's outcome is not its
	}
	<-g.done
	if g.err != nil {
		return nil, g.err
	}
	return hooks, nil
}

// rollbackMember undoes the current member's writes. When that fails the
// transaction is gone, and with it the group.
func (g *group) rollbackMember(ctx context.Context) {
	if g.broken != nil {
		return
	}
	if _, err := g.tx.ExecContext(ctx, `ROLLBACK TO trueup_member`); err != nil {
		g.broken = err
		return
	}
	if _, err := g.tx.ExecContext(ctx, `RELEASE trueup_member`); err != nil {
		g.broken = err
	}
}

// acquireWriter takes the write slot, counting this writer as waiting
// meanwhile: a holder that sees a waiter leaves its group open for it.
func (db *DB) acquireWriter(ctx context.Context) error {
	db.waiting.Add(1)
	err := db.writer.acquire(ctx)
	db.waiting.Add(-1)
	if err != nil {
		// A holder may have left a group open for this writer, which gave
		// up instead: end that group when the slot comes free.
		go db.flushGroup()
		return err
	}
	return nil
}

// flushGroup takes the write slot and ends the open group, if any.
func (db *DB) flushGroup() {
	db.writer <- struct{}{}
	if g := db.group; g != nil {
		db.endGroup(context.Background(), g)
	}
	db.writer.release()
}

// joinGroup returns the open group, with this writer counted in, or begins
// a new one. The caller holds the write slot.
func (db *DB) joinGroup(ctx context.Context) (*group, error) {
	if g := db.group; g != nil {
		g.members++
		return g, nil
	}
	// Without ctx's cancellation: database/sql rolls a transaction back when
	// the context it began with ends, and this one outlives its first member.
	sqlTx, err := db.BeginTx(context.WithoutCancel(ctx), nil)
	if err != nil {
		return nil, fmt.Errorf("sqldb: begin %s transaction: %w", db.Dialect, err)
	}
	g := &group{tx: sqlTx, begun: time.Now(), members: 1, done: make(chan struct{})}
	db.group = g
	return g, nil
}

// leave is the end of a member's turn, holding the write slot: hand the
// open group on to a waiting writer, or end it; then release the slot.
func (db *DB) leave(ctx context.Context, g *group) {
	if g.broken == nil && g.members < groupMaxMembers && time.Since(g.begun) < groupMaxAge && db.waiting.Load() > 0 {
		// Every counted waiter either takes the slot (and joins or ends the
		// group) or gives up and flushes it: the group always ends.
		if testHookHandOff != nil {
			testHookHandOff()
		}
		db.writer.release()
		return
	}
	db.endGroup(ctx, g)
	db.writer.release()
}

// endGroup commits the group (or rolls it back when broken) and tells its
// members. The caller holds the write slot.
func (db *DB) endGroup(ctx context.Context, g *group) {
	db.group = nil
	db.groups.Add(1)
	db.groupMembers.Add(int64(g.members))
	if g.broken != nil {
		_ = g.tx.Rollback()
		g.err = fmt.Errorf("%w: %w", errGroupAborted, g.broken)
	} else if err := g.tx.Commit(); err != nil {
		g.err = fmt.Errorf("sqldb: commit %s transaction: %w", db.Dialect, err)
	}
	// The connection is back in the pool: prepare what the members missed
	// (while holding the write slot, so writers do not race to).
	if len(g.misses) > 0 {
		db.stmts.prepare(ctx, db.DB, g.misses)
	}
	close(g.done)
}

// WriteGroups reports how many SQLite write transactions this DB has
// committed or rolled back since it opened, and how many WithTx calls ran in
// them (members/groups is the mean group size; see group.go). Zero on
// PostgreSQL, which commits each transaction on its own.
func (db *DB) WriteGroups() (groups, members int64) {
	return db.groups.Load(), db.groupMembers.Load()
}
