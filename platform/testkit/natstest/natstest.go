// Package natstest runs an embedded NATS server with JetStream for tests: one
// per test, its store in the test's temporary directory, stopped when the test
// ends.
//
// It imports only nats-server and nats.go, not platform/natsx, so natsx's own
// tests can use it without an import cycle; a test that wants Trueup's stream
// settings applies natsx.StreamConfig itself.
package natstest

import (
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// readyTimeout bounds the wait for a fresh server to accept clients; an empty
// store starts in milliseconds, so reaching it means the machine is stuck.
const readyTimeout = 10 * time.Second

// Server starts a NATS server with JetStream on a free loopback port (for a
// test that dials ClientURL, as a separate process would) and shuts it down,
// waiting until it has stopped, when the test ends.
func Server(tb testing.TB) *server.Server {
	tb.Helper()
	s, err := server.NewServer(&server.Options{
		Host:      "127.0.0.1",
		Port:      -1,
		JetStream: true,
		StoreDir:  tb.TempDir(),
		// The test binary owns its signals, and the server's start-up chatter
		// would bury the test's own output.
		NoSigs: true,
		NoLog:  true,
	})
	if err != nil {
		tb.Fatalf("natstest: new server: %v", err)
	}
	go s.Start()
	// Registered before the readiness check so that a server that never
	// becomes ready is still stopped. Cleanups run last-in first-out, so the
	// server outlives the connections a test registers after this.
	tb.Cleanup(func() {
		s.Shutdown()
		s.WaitForShutdown()
	})
	if !s.ReadyForConnections(readyTimeout) {
		tb.Fatalf("natstest: server not ready for connections within %s", readyTimeout)
	}
	if !s.JetStreamEnabled() {
		tb.Fatal("natstest: JetStream did not start")
	}
	return s
}

// Connect connects to s in-process, without a socket, and closes the
// connection when the test ends.
func Connect(tb testing.TB, s *server.Server) *nats.Conn {
	tb.Helper()
	nc, err := nats.Connect("", nats.InProcessServer(s), nats.Name(tb.Name()))
	if err != nil {
		tb.Fatalf("natstest: connect: %v", err)
	}
	tb.Cleanup(nc.Close)
	return nc
}

// JetStream starts a Server and returns a JetStream client on an in-process
// connection to it. The server has no streams: the test creates those it needs.
func JetStream(tb testing.TB) jetstream.JetStream {
	tb.Helper()
	return JetStreamOn(tb, Connect(tb, Server(tb)))
}

// JetStreamOn returns a JetStream client on nc, for a test that made its own
// connection (over TCP, or with natsx's reconnect policy).
func JetStreamOn(tb testing.TB, nc *nats.Conn) jetstream.JetStream {
	tb.Helper()
	js, err := jetstream.New(nc)
	if err != nil {
		tb.Fatalf("natstest: jetstream: %v", err)
	}
	return js
}
