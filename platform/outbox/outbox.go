// Package outbox is the transactional outbox: a service writes the events a
// change implies into the outbox table in the same transaction as the change
// (Add), and a relay (Run) publishes committed rows to the broker and marks
// them sent. A crash anywhere loses nothing: an event is either committed
// with its change, and then published at least once, or not at all.
//
// Delivery is at least once. A row whose publish was acknowledged but whose
// "sent" mark was lost (crash, failed UPDATE) is published again; the event
// id, sent as Nats-Msg-Id, lets JetStream drop that copy within its
// duplicate window, and the consumer's inbox drops any later one.
//
// The relay reads unsent rows in seq order every time rather than keeping a
// "last seq" cursor: on PostgreSQL a transaction that took a lower seq can
// commit after a higher one was already relayed, and a cursor would skip it.
// Order is seq order while the broker accepts everything; a message the broker
// refuses is retried after the ones that followed it were sent.
//
// On PostgreSQL several relay replicas may run: each claims its batch with
// SELECT … FOR UPDATE SKIP LOCKED and holds the row locks while publishing.
// On SQLite the batch is read without a lock (holding SQLite's write lock
// while talking to the broker would stall every writer); SQLite is one
// process, so run one relay there.
package outbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"

	"trueup.dev/platform/sqldb"
)

// Options tune a relay. Zero values take the defaults.
type Options struct {
	// BatchSize is the most rows published per round trip (default 100).
	BatchSize int
	// PollInterval is how often the relay looks for rows when nothing wakes
	// it (default 1s). Add wakes the relay of its own Outbox on commit, so
	// this bounds the latency of rows written by other processes or
	// through another Outbox value.
	PollInterval time.Duration
	// Retention is how long sent rows are kept before they are deleted
	// (default 72h): long enough to look into what was sent.
	Retention time.Duration
	// MaxBackoff caps the pause after a failed publish (default 30s). The
	// pause starts at 100ms and doubles while publishing keeps failing.
	MaxBackoff time.Duration
	// Logger receives the relay's warnings (default slog.Default()).
	Logger *slog.Logger
	// PublishTimeout bounds one batch's wait for broker acknowledgements
	// (default 30s); unacknowledged rows stay unsent and are retried.
	PublishTimeout time.Duration
	// MeterProvider receives the relay's metrics (default: the global one).
	MeterProvider metric.MeterProvider
}

const (
	defaultBatchSize    = 100
	defaultPollInterval = time.Second
	defaultRetention    = 72 * time.Hour
	defaultMaxBackoff   = 30 * time.Second
	minBackoff          = 100 * time.Millisecond
	// finishTimeout bounds the marking of a published batch after Run's
	// context ended: the rows are out, so recording that is worth a moment.
	finishTimeout = 10 * time.Second
	// maxPurgeEvery bounds how often the purge runs with a long Retention.
	maxPurgeEvery = 5 * time.Minute
	// purgeChunk keeps each purge DELETE short, so it never holds SQLite's
	// write lock for long.
	purgeChunk = 5000
	// insertChunk keeps a multi-row INSERT far below SQLite's bound
	// parameter limit (32766).
	insertChunk = 500
	// maxErrorLen bounds last_error.
	maxErrorLen = 1000
)

// Outbox writes events in transactions (Add) and relays them to a Publisher
// (Run). Add may be called from any number of goroutines; run one Run per
// Outbox.
type Outbox struct {
	db   *sqldb.DB
	pub  Publisher
	opts Options
	log  *slog.Logger
	wake chan struct{}

	published metric.Int64Counter
	failures  metric.Int64Counter
}

// New returns an Outbox on db (migrated with Migrate) that publishes with pub.
func New(db *sqldb.DB, pub Publisher, opts Options) *Outbox {
	if opts.BatchSize <= 0 {
		opts.BatchSize = defaultBatchSize
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = defaultPollInterval
	}
	if opts.Retention <= 0 {
		opts.Retention = defaultRetention
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = defaultMaxBackoff
	}
	if opts.PublishTimeout <= 0 {
		opts.PublishTimeout = 30 * time.Second
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	o := &Outbox{
		db:   db,
		pub:  pub,
		opts: opts,
		log:  log.With("component", "outbox"),
		wake: make(chan struct{}, 1),
	}
	o.instrument()
	return o
}

// instrument registers the relay's metrics, which tell an on-call engineer
// whether events are flowing: how many were published, how many publishes
// failed, and how many committed events wait in the table.
func (o *Outbox) instrument() {
	mp := o.opts.MeterProvider
	if mp == nil {
		mp = otel.GetMeterProvider()
	}
	meter := mp.Meter("trueup.dev/platform/outbox")
	var err error
	if o.published, err = meter.Int64Counter("trueup.outbox.published",
		metric.WithDescription("Events published to the broker and marked sent."), metric.WithUnit("{event}")); err != nil {
		o.log.Warn("outbox metric", "error", err)
	}
	if o.failures, err = meter.Int64Counter("trueup.outbox.publish_failures",
		metric.WithDescription("Events the broker did not acknowledge; they stay in the table and are retried."), metric.WithUnit("{event}")); err != nil {
		o.log.Warn("outbox metric", "error", err)
	}
	if _, err := meter.Int64ObservableGauge("trueup.outbox.pending",
		metric.WithDescription("Committed events not yet published."), metric.WithUnit("{event}"),
		metric.WithInt64Callback(func(ctx context.Context, obs metric.Int64Observer) error {
			n, err := o.Pending(ctx)
			if err != nil {
				return err
			}
			obs.Observe(int64(n))
			return nil
		})); err != nil {
		o.log.Warn("outbox metric", "error", err)
	}
}

// Add writes msgs to the outbox inside tx, so they commit or roll back with
// the change they describe, and wakes the relay when tx commits. ID, Subject
// and Type are required; a zero OccurredAt becomes now. The W3C trace
// context of ctx is added to each message's headers (a copy: msgs are not
// modified), so the consumer's span continues the writer's trace.
func (o *Outbox) Add(ctx context.Context, tx *sqldb.Tx, msgs ...Message) error {
	if tx == nil {
		return errors.New("outbox: Add needs a transaction")
	}
	if len(msgs) == 0 {
		return nil
	}
	now := sqldb.Now()
	args := make([]any, 0, 7*len(msgs))
	for i, m := range msgs {
		if err := validate(m); err != nil {
			return fmt.Errorf("outbox: message %d: %w", i, err)
		}
		headers := make(map[string]string, len(m.Headers)+2)
		maps.Copy(headers, m.Headers)
		otel.GetTextMapPropagator().Inject(ctx, propagation.MapCarrier(headers))
		headerJSON, err := json.Marshal(headers)
		if err != nil {
			return fmt.Errorf("outbox: message %s headers: %w", m.ID, err)
		}
		occurred := sqldb.Timestamp(m.OccurredAt)
		if occurred.IsZero() {
			occurred = now
		}
		payload := m.Payload
		if payload == nil {
			payload = []byte{} // nil would be bound as NULL
		}
		args = append(args, m.ID, m.Subject, m.Type, payload, string(headerJSON), occurred, now)
	}
	for start := 0; start < len(msgs); start += insertChunk {
		end := min(start+insertChunk, len(msgs))
		if _, err := tx.ExecContext(ctx, insertSQL(end-start), args[7*start:7*end]...); err != nil {
			return fmt.Errorf("outbox: insert %d messages: %w", end-start, err)
		}
	}
	tx.OnCommit(o.Wake)
	return nil
}

func validate(m Message) error {
	var missing []string
	if m.ID == "" {
		missing = append(missing, "ID")
	}
	if m.Subject == "" {
		missing = append(missing, "Subject")
	}
	if m.Type == "" {
		missing = append(missing, "Type")
	}
	if len(missing) > 0 {
		return fmt.Errorf("%s required", strings.Join(missing, ", "))
	}
	return nil
}

// insertSQL is a multi-row INSERT for n messages: one statement, one round
// trip, however many events a change implies.
func insertSQL(n int) string {
	var b strings.Builder
	b.WriteString(`INSERT INTO outbox (id, subject, type, payload, headers, occurred_at, created_at) VALUES `)
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("(")
		for j := range 7 {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString("$" + strconv.Itoa(7*i+j+1))
		}
		b.WriteString(")")
	}
	return b.String()
}

// Wake tells the relay to look for rows now. It never blocks; wakes that
// arrive while one is pending merge into it.
func (o *Outbox) Wake() {
	select {
	case o.wake <- struct{}{}:
	default:
	}
}

// Pending counts the rows not yet sent: the relay's backlog.
func (o *Outbox) Pending(ctx context.Context) (int, error) {
	var n int
	if err := o.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL`).Scan(&n); err != nil {
		return 0, fmt.Errorf("outbox: count pending: %w", err)
	}
	return n, nil
}
