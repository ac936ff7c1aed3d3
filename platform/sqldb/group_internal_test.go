package sqldb

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func openGrouped(t *testing.T) *DB {
	t.Helper()
	db, err := Open(t.Context(), "sqlite://"+filepath.Join(t.TempDir(), "group.db")+"?_synchronous=NORMAL")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if _, err := db.ExecContext(t.Context(), `CREATE TABLE rows (id TEXT PRIMARY KEY)`); err != nil {
		t.Fatal(err)
	}
	return db
}

func ids(t *testing.T, db *DB) map[string]bool {
	t.Helper()
	rows, err := db.QueryContext(t.Context(), `SELECT id FROM rows`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	got := map[string]bool{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		got[id] = true
	}
	return got
}

var errRefused = errors.New("refused")

// TestGroupedWritersFailAlone: sixteen concurrent writers share commits, and
// a writer whose fn fails (every third) or panics (every seventh) loses its
// own row only: the others of its group commit, their hooks run, and its
// own WithTx reports its error (or panic) at once.
func TestGroupedWritersFailAlone(t *testing.T) {
	db := openGrouped(t)
	const writers, each = 16, 30
	var wg sync.WaitGroup
	var hooks atomic.Int64
	want := map[string]bool{}
	var mu sync.Mutex
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				id := fmt.Sprintf("w%d-%d", w, i)
				n := w*each + i
				err := func() (err error) {
					defer func() {
						if p := recover(); p != nil {
							err = fmt.Errorf("panicked: %v", p)
						}
					}()
					return db.WithTx(t.Context(), func(tx *Tx) error {
						if _, err := tx.ExecContext(t.Context(), `INSERT INTO rows (id) VALUES ($1)`, id); err != nil {
							return err
						}
						tx.OnCommit(func() { hooks.Add(1) })
						time.Sleep(100 * time.Microsecond) // a command's work, so that others queue
						switch {
						case n%7 == 0:
							panic("boom")
						case n%3 == 0:
							return errRefused
						}
						return nil
					})
				}()
				switch {
				case n%7 == 0:
					if err == nil || errors.Is(err, errRefused) {
						t.Errorf("%s: err = %v, want its panic", id, err)
					}
				case n%3 == 0:
					if !errors.Is(err, errRefused) {
						t.Errorf("%s: err = %v, want its own error", id, err)
					}
				default:
					if err != nil {
						t.Errorf("%s: %v", id, err)
					}
					mu.Lock()
					want[id] = true
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	got := ids(t, db)
	if len(got) != len(want) {
		t.Errorf("%d rows committed, want %d", len(got), len(want))
	}
	for id := range got {
		if !want[id] {
			t.Errorf("row %s of a failed writer committed", id)
		}
	}
	if hooks.Load() != int64(len(want)) {
		t.Errorf("%d commit hooks ran, want %d (one per successful writer)", hooks.Load(), len(want))
	}
	groups, members := db.WriteGroups()
	if members != writers*each {
		t.Errorf("WriteGroups counts %d members, want %d", members, writers*each)
	}
	if groups >= members {
		t.Errorf("%d commits for %d concurrent writers: none were grouped", groups, members)
	}
	t.Logf("%d writers in %d commits", members, groups)
}

// TestGroupHandedToAWriterThatGivesUp: a holder hands its open group on to a
// waiting writer whose context then ends; the group still commits and the
// holder's WithTx returns.
func TestGroupHandedToAWriterThatGivesUp(t *testing.T) {
	db := openGrouped(t)
	waiterCtx, cancel := context.WithCancel(t.Context())
	waiterDone := make(chan error, 1)
	testHookHandOff = func() {
		cancel()
		if err := <-waiterDone; err == nil {
			t.Error("the waiter committed, want its context's error")
		}
	}
	defer func() { testHookHandOff = nil }()
	done := make(chan error, 1)
	go func() {
		done <- db.WithTx(t.Context(), func(tx *Tx) error {
			go func() {
				waiterDone <- db.WithTx(waiterCtx, func(tx *Tx) error {
					_, err := tx.ExecContext(waiterCtx, `INSERT INTO rows (id) VALUES ('waiter')`)
					return err
				})
			}()
			for db.waiting.Load() == 0 {
				time.Sleep(time.Millisecond)
			}
			_, err := tx.ExecContext(t.Context(), `INSERT INTO rows (id) VALUES ('holder')`)
			return err
		})
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the holder's WithTx never returned: the group it handed on was never committed")
	}
	if got := ids(t, db); !got["holder"] || got["waiter"] {
		t.Errorf("rows %v, want the holder's only", got)
	}
}

// TestGroupLostMidwayRunsTheOthersAgain: a member that destroys the shared
// transaction (here a raw ROLLBACK) fails with its own error, and the member
// that had already succeeded in it runs again in a new transaction and
// commits once.
func TestGroupLostMidwayRunsTheOthersAgain(t *testing.T) {
	db := openGrouped(t)
	var firstRuns atomic.Int64
	breakerQueued := make(chan struct{})
	breakerDone := make(chan error, 1)
	err := db.WithTx(t.Context(), func(tx *Tx) error {
		if firstRuns.Add(1) == 1 {
			go func() {
				close(breakerQueued)
				breakerDone <- db.WithTx(t.Context(), func(tx *Tx) error {
					if _, err := tx.ExecContext(t.Context(), `ROLLBACK`); err != nil {
						return err
					}
					return errRefused
				})
			}()
			<-breakerQueued
			for db.waiting.Load() == 0 {
				time.Sleep(time.Millisecond)
			}
		}
		_, err := tx.ExecContext(t.Context(), `INSERT INTO rows (id) VALUES ('first')`)
		return err
	})
	if err != nil {
		t.Fatalf("first member: %v", err)
	}
	if err := <-breakerDone; !errors.Is(err, errRefused) {
		t.Errorf("breaking member: err = %v, want its own error", err)
	}
	if n := firstRuns.Load(); n != 2 {
		t.Errorf("first member's fn ran %d times, want 2 (once lost with the group, once committed)", n)
	}
	if got := ids(t, db); len(got) != 1 || !got["first"] {
		t.Errorf("rows %v, want the first member's once", got)
	}
}

// TestSQLiteSavepointJournalsInMemory: the default DSN keeps temporary
// storage (savepoint journals among it) in memory, unless the DSN says
// otherwise.
func TestSQLiteSavepointJournalsInMemory(t *testing.T) {
	for dsn, want := range map[string]int{"": 2, "?_pragma=temp_store(FILE)": 1} {
		db, err := Open(t.Context(), "sqlite://"+filepath.Join(t.TempDir(), "t.db")+dsn)
		if err != nil {
			t.Fatal(err)
		}
		var got int
		if err := db.QueryRowContext(t.Context(), `PRAGMA temp_store`).Scan(&got); err != nil {
			t.Fatal(err)
		}
		_ = db.Close()
		if got != want {
			t.Errorf("DSN %q: temp_store = %d, want %d", dsn, got, want)
		}
	}
}
