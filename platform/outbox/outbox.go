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
// A drain pass pipelines its batches (Options.PipelineDepth): while a
// published batch is being marked sent, the next is fetched and published.
// Publishes still go out one batch after the other, in seq order, and marks
// are applied one at a time in the same order. The next fetch must not read
// the rows still being marked: on PostgreSQL their locks keep it off them; on
// SQLite it reads only past the last row fetched in the same pass. That bound
// is not a cursor: it ends with the pass, and the next pass, which a commit
// wakes, starts again from the lowest unsent row.
//
// # Failures back off per row
//
// A refused row records the attempt and the error and is not read again until
// its next_attempt_at, which grows exponentially with its attempts (from 100ms
// up to Options.MaxBackoff). Meanwhile every other row goes out at once: one
// event the broker keeps refusing (too large, no stream for its subject) never
// delays the events written after it. Only when nothing in a batch gets
// through (the broker is down) does the whole relay pause, and even then a
// commit (Wake) ends the pause, so a fresh event is tried at once.
//
// A row refused Options.MaxAttempts times while the broker acknowledged other
// rows is parked: the relay stops trying it and logs an error, and it shows in
// the trueup.outbox.parked gauge, in Parked and in ListParked (`trueup outbox
// parked`). A broker outage parks nothing: rows refused while nothing else
// gets through are retried for as long as it lasts. Unpark (`trueup outbox
// retry`) puts parked rows back in line with a fresh attempt budget.
//
// Republish (`trueup outbox republish --since`) marks rows sent since a time
// as unsent again, so the relay publishes them once more: the repair for a
// broker that lost acknowledged writes (a power loss under JetStream's
// periodic fsync). Consumers' inboxes drop the copies they already applied.
// It reaches back only as far as Options.Retention keeps sent rows.
//
// # Replicas
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
	// MaxBackoff caps the pauses after failed publishes (default 30s): a
	// refused row's wait before its next attempt, which starts at 100ms and
	// doubles with each attempt, and the relay's pause while nothing gets
	// through at all, which grows the same way.
	MaxBackoff time.Duration
	// MaxAttempts is how many refusals park a row (default 20, about six
	// minutes of attempts with the default MaxBackoff). Only refusals while
	// the broker acknowledged other rows count towards parking; see the
	// package documentation.
	MaxAttempts int
	// DrainTimeout bounds the publishing of the last drain after Run's
	// context ends (default 5s), which sends the rows committed just before
	// shutdown instead of leaving them to the next start; marking a batch it
	// published may take up to 10s more. Negative skips it.
	DrainTimeout time.Duration
	// Logger receives the relay's warnings (default slog.Default()).
	Logger *slog.Logger
	// PublishTimeout bounds one batch's wait for broker acknowledgements
	// (default 30s); unacknowledged rows stay unsent and are retried.
	PublishTimeout time.Duration
	// PipelineDepth is how many batches the relay has in hand at once
	// (default 2): while one batch is being marked sent, the next is
	// fetched and published. On PostgreSQL each batch in hand is an open
	// transaction holding its rows' locks, so the relay uses up to this many
	// connections. 1 makes the relay strictly sequential: fetch, publish,
	// mark, then the next fetch.
	PipelineDepth int
	// MeterProvider receives the relay's metrics (default: the global one).
	MeterProvider metric.MeterProvider
}

const (
	defaultBatchSize    = 100
	defaultPollInterval = time.Second
	defaultRetention    = 72 * time.Hour
	defaultMaxBackoff   = 30 * time.Second
	defaultMaxAttempts  = 20
	defaultDrainTimeout = 5 * time.Second
	// defaultPipelineDepth overlaps a batch's mark with the next batch's
	// publish; more buys little, since marks are serial.
	defaultPipelineDepth = 2
	minBackoff           = 100 * time.Millisecond
	// finishTimeout bounds the marking of a published batch after Run's
	// context ended: the rows are out, so recording that is worth a moment.
	finishTimeout = 10 * time.Second
	// maxPurgeEvery bounds how often the purge runs with a long Retention.
	maxPurgeEvery = 5 * time.Minute
	// purgeChunk keeps each purge DELETE short, so it never holds SQLite's
	// write lock for long.
	purgeChunk = 5000
	// republishChunk keeps each Republish UPDATE short, like purgeChunk.
	republishChunk = 5000
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

	// State of the relay loop, used by the goroutine running Run and, during
	// a drain pass, by its marker goroutine only (see marker).
	//
	// lastAck is when the broker last acknowledged a row: a refusal soon
	// after that is the row's fault, not an outage, and counts towards
	// parking it.
	lastAck time.Time
	// nextDue is the earliest next_attempt_at this relay has set that has
	// not come yet (zero: none), so a refused row is retried when due rather
	// than at the next poll.
	nextDue time.Time
	// markHook, when set (by tests), runs in the marker before each mark.
	markHook func()

	published metric.Int64Counter
	failures  metric.Int64Counter
	parked    metric.Int64Counter
}

// New returns an Outbox on db (migrated with Migrate) that publishes with pub.
// pub may be nil for an Outbox used only to write or to administer rows
// (Add, ListParked, Unpark, Republish), never to Run.
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
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = defaultMaxAttempts
	}
	if opts.DrainTimeout == 0 {
		opts.DrainTimeout = defaultDrainTimeout
	}
	if opts.PublishTimeout <= 0 {
		opts.PublishTimeout = 30 * time.Second
	}
	if opts.PipelineDepth <= 0 {
		opts.PipelineDepth = defaultPipelineDepth
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
		metric.WithDescription("Events the broker did not acknowledge; they stay in the table and are retried, or parked after MaxAttempts."), metric.WithUnit("{event}")); err != nil {
		o.log.Warn("outbox metric", "error", err)
	}
	if o.parked, err = meter.Int64Counter("trueup.outbox.parked_total",
		metric.WithDescription("Events parked after MaxAttempts refusals; they wait for an operator (trueup outbox retry)."), metric.WithUnit("{event}")); err != nil {
		o.log.Warn("outbox metric", "error", err)
	}
	pending, err := meter.Int64ObservableGauge("trueup.outbox.pending",
		metric.WithDescription("Committed events not yet published, parked ones included."), metric.WithUnit("{event}"))
	if err != nil {
		o.log.Warn("outbox metric", "error", err)
		return
	}
	parked, err := meter.Int64ObservableGauge("trueup.outbox.parked",
		metric.WithDescription("Events the relay gave up on after MaxAttempts refusals: they need an operator (trueup outbox parked, retry)."), metric.WithUnit("{event}"))
	if err != nil {
		o.log.Warn("outbox metric", "error", err)
		return
	}
	// One callback, one query for both gauges.
	if _, err := meter.RegisterCallback(func(ctx context.Context, obs metric.Observer) error {
		nPending, nParked, err := o.counts(ctx)
		if err != nil {
			return err
		}
		obs.ObserveInt64(pending, int64(nPending))
		obs.ObserveInt64(parked, int64(nParked))
		return nil
	}, pending, parked); err != nil {
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

// Pending counts the rows not yet sent, parked ones included: the relay's
// backlog.
func (o *Outbox) Pending(ctx context.Context) (int, error) {
	n, _, err := o.counts(ctx)
	return n, err
}

// Parked counts the rows the relay gave up on (see ListParked).
func (o *Outbox) Parked(ctx context.Context) (int, error) {
	_, n, err := o.counts(ctx)
	return n, err
}

// counts returns the numbers of unsent and of parked rows, in one scan of the
// unsent rows (parked rows are unsent).
func (o *Outbox) counts(ctx context.Context) (pending, parked int, err error) {
	if err := o.db.QueryRowContext(ctx,
		`SELECT COUNT(*), COUNT(parked_at) FROM outbox WHERE sent_at IS NULL`).Scan(&pending, &parked); err != nil {
		return 0, 0, fmt.Errorf("outbox: count pending rows: %w", err)
	}
	return pending, parked, nil
}
