package natstest_test

import (
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"trueup.dev/platform/testkit/natstest"
)

// A test gets a working JetStream: a stream it creates stores what it
// publishes, in-process.
func TestJetStreamStoresWhatIsPublished(t *testing.T) {
	js := natstest.JetStream(t)
	ctx := t.Context()
	st, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "T", Subjects: []string{"t.>"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := js.Publish(ctx, "t.one", []byte("1")); err != nil {
		t.Fatalf("publish: %v", err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != 1 {
		t.Fatalf("stream holds %d messages, want 1", info.State.Msgs)
	}
}

// The server also listens on loopback, for a test that dials it by URL as
// another process would, and each test gets a server of its own.
func TestServerIsReachableByURLAndNotShared(t *testing.T) {
	a, b := natstest.Server(t), natstest.Server(t)
	if a.ClientURL() == b.ClientURL() {
		t.Fatalf("two servers share %s", a.ClientURL())
	}
	nc, err := nats.Connect(a.ClientURL(), nats.Timeout(5*time.Second))
	if err != nil {
		t.Fatalf("dial %s: %v", a.ClientURL(), err)
	}
	defer nc.Close()
	js := natstest.JetStreamOn(t, nc)
	if _, err := js.AccountInfo(t.Context()); err != nil {
		t.Fatalf("JetStream over TCP: %v", err)
	}
}

// When the test ends the server is stopped, so no test leaks a broker (and
// its goroutines) into the next.
func TestServerStopsWhenTheTestEnds(t *testing.T) {
	var url string
	t.Run("inner", func(t *testing.T) { url = natstest.Server(t).ClientURL() })
	if nc, err := nats.Connect(url, nats.Timeout(time.Second), nats.NoReconnect()); err == nil {
		nc.Close()
		t.Fatalf("server at %s still accepts connections after its test ended", url)
	}
}
