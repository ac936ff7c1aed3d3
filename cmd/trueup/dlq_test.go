package main

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"trueup.dev/platform/apperr"
	"trueup.dev/platform/natsx"
	"trueup.dev/platform/testkit/natstest"
)

func TestParseDLQArgs(t *testing.T) {
	t.Parallel()
	since := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		args    []string
		want    natsx.DeadLetterFilter
		all     bool
		force   bool
		wantErr string
	}{
		{name: "no subcommand", args: nil, wantErr: "usage"},
		{name: "list all", args: []string{"list"}},
		{name: "list by stream and durable", args: []string{"list", "--stream", "ORDERS", "--durable", "ledger"},
			want: natsx.DeadLetterFilter{Stream: "ORDERS", Durable: "ledger"}},
		{name: "list takes no sequences", args: []string{"list", "3"}, wantErr: "no arguments"},
		{name: "bare replay is refused", args: []string{"replay"}, wantErr: "say what to replay"},
		{name: "replay sequences", args: []string{"replay", "3", "5"}, want: natsx.DeadLetterFilter{Seqs: []uint64{3, 5}}},
		{name: "replay all", args: []string{"replay", "--all"}, all: true},
		{name: "all with a filter is ambiguous", args: []string{"replay", "--all", "--durable", "x"}, wantErr: "--all"},
		{name: "replay by durable, forced", args: []string{"replay", "--force", "--durable", "ledger"},
			want: natsx.DeadLetterFilter{Durable: "ledger"}, force: true},
		{name: "replay by time and subject", args: []string{"replay", "--since", "2026-11-30T08:00:00Z", "--subject", "orders.v1.X"},
			want: natsx.DeadLetterFilter{Since: since, Subject: "orders.v1.X"}},
		{name: "bad time", args: []string{"replay", "--until", "yesterday"}, wantErr: "RFC 3339"},
		{name: "bad sequence", args: []string{"replay", "x1"}, wantErr: "sequence"},
	}
	for _, tt := range tests {
		a, err := parseDLQArgs(tt.args)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%s: err = %v, want one mentioning %q", tt.name, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		f := a.filter
		if !slices.Equal(f.Seqs, tt.want.Seqs) || f.Stream != tt.want.Stream || f.Durable != tt.want.Durable ||
			f.Subject != tt.want.Subject || f.EventID != tt.want.EventID || !f.Since.Equal(tt.want.Since) ||
			!f.Until.Equal(tt.want.Until) || a.all != tt.all || a.force != tt.force {
			t.Errorf("%s: parsed %+v all=%v force=%v, want %+v all=%v force=%v", tt.name, f, a.all, a.force, tt.want, tt.all, tt.force)
		}
	}
}

// dlqJS starts an embedded JetStream with an EVENTS stream.
func dlqJS(t *testing.T) jetstream.JetStream {
	t.Helper()
	js := natstest.JetStream(t)
	if _, err := natsx.EnsureStream(t.Context(), js, natsx.StreamConfig("EVENTS", []string{"events.>"})); err != nil {
		t.Fatal(err)
	}
	return js
}

func dlqRun(t *testing.T, js jetstream.JetStream, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	a, err := parseDLQArgs(args)
	if err != nil {
		t.Fatalf("parse %v: %v", args, err)
	}
	var out, errOut bytes.Buffer
	err = dlqCommand(t.Context(), js, a, &out, &errOut)
	return out.String(), errOut.String(), err
}

// `trueup dlq replay --durable alpha` replays alpha's dead letters to alpha only.
func TestDLQReplayByDurable(t *testing.T) {
	t.Parallel()
	js := dlqJS(t)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	var replayed atomic.Int64
	for _, durable := range []string{"alpha", "beta"} {
		c, err := natsx.Consume(ctx, js, natsx.ConsumerConfig{Stream: "EVENTS", Durable: durable},
			func(_ context.Context, m *natsx.Message) error {
				if m.Replay {
					if durable != "alpha" {
						t.Errorf("%s got a replay", durable)
					}
					replayed.Add(1)
					return nil
				}
				return natsx.Permanent(errors.New("poison"))
			})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Stop(context.Background()) })
	}
	m := nats.NewMsg("events.v1.X")
	m.Header.Set(natsx.HeaderEventID, "evt-1")
	if _, err := js.PublishMsg(ctx, m); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "two dead letters", func() bool {
		out, _, err := dlqRun(t, js, "list")
		return err == nil && strings.Count(out, "\n") == 2
	})
	out, _, err := dlqRun(t, js, "replay", "--durable", "alpha")
	if err != nil || !strings.Contains(out, "replayed 1 dead letters") {
		t.Fatalf("replay --durable alpha = %q, %v", out, err)
	}
	waitFor(t, "alpha to process the replay", func() bool { return replayed.Load() == 1 })
	out, _, err = dlqRun(t, js, "list")
	if err != nil || strings.Count(out, "\n") != 1 || !strings.Contains(out, `"durable":"beta"`) || !strings.Contains(out, `"stream":"EVENTS"`) {
		t.Errorf("left after the replay: %q, %v; want beta's", out, err)
	}
}

// A dead letter older than the inbox retention needs --force, which warns.
func TestDLQReplayOfAnOldDeadLetterNeedsForce(t *testing.T) {
	t.Parallel()
	js := dlqJS(t)
	ctx := t.Context()
	if _, err := natsx.EnsureStream(ctx, js, natsx.DLQStreamConfig()); err != nil {
		t.Fatal(err)
	}
	old := nats.NewMsg(natsx.DeadLetterSubject("EVENTS", "worker"))
	for k, v := range map[string]string{
		natsx.HeaderEventID: "evt-old", natsx.HeaderDLQSubject: "events.v1.X", natsx.HeaderDLQStream: "EVENTS",
		natsx.HeaderDLQStreamSeq: "1", natsx.HeaderDLQAt: time.Now().Add(-50 * 24 * time.Hour).UTC().Format(time.RFC3339Nano),
	} {
		old.Header.Set(k, v)
	}
	if _, err := js.PublishMsg(ctx, old); err != nil {
		t.Fatal(err)
	}
	_, _, err := dlqRun(t, js, "replay", "1")
	if apperr.KindOf(err) != apperr.KindFailedPrecondition || !strings.Contains(err.Error(), "older than") {
		t.Fatalf("replay of a 50-day-old dead letter = %v, want a refusal", err)
	}
	out, stderr, err := dlqRun(t, js, "replay", "--force", "1")
	if err != nil || !strings.Contains(out, "replayed 1") || !strings.Contains(stderr, "WARNING") {
		t.Fatalf("forced replay = %q, %q, %v", out, stderr, err)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
