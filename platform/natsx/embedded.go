package natsx

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	neturl "net/url"
	"strings"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"trueup.dev/platform/config"
)

// readyTimeout bounds how long StartEmbedded waits for the server to accept clients.
// JetStream recovery of a large store can take a while; ten seconds is ample for dev.
const readyTimeout = 10 * time.Second

// EmbeddedOptions configures an in-process NATS server with JetStream.
type EmbeddedOptions struct {
	// StoreDir is where JetStream keeps its files. Required: an implicit temp dir
	// would silently lose every event on restart.
	StoreDir string
	// Host to listen on. Empty means 127.0.0.1, so a laptop's dev broker is not
	// reachable from the network by accident.
	Host string
	// Port to listen on: -1 picks a free port (tests), 0 means the NATS default 4222.
	Port int
	// ServerName names the server in logs and JetStream metadata. Empty lets the
	// server generate one.
	ServerName string
	// Logger receives the server's log lines (notices at Debug, since the embedded
	// server's start-up chatter is noise for a developer). Nil turns logging off.
	Logger *slog.Logger
}

// StartEmbedded starts a NATS server with JetStream enabled inside this process and
// waits until it accepts connections. The caller owns it and must call Shutdown.
func StartEmbedded(opts EmbeddedOptions) (*server.Server, error) {
	if opts.StoreDir == "" {
		return nil, errors.New("start embedded nats: StoreDir is required")
	}
	host := opts.Host
	if host == "" {
		host = "127.0.0.1"
	}
	sopts := &server.Options{
		ServerName: opts.ServerName,
		Host:       host,
		Port:       opts.Port,
		JetStream:  true,
		StoreDir:   opts.StoreDir,
		// The host process owns signal handling (signal.NotifyContext in main);
		// the server must not install its own handlers and exit on SIGTERM.
		NoSigs: true,
		NoLog:  opts.Logger == nil,
	}
	s, err := server.NewServer(sopts)
	if err != nil {
		return nil, fmt.Errorf("start embedded nats: %w", err)
	}
	if opts.Logger != nil {
		s.SetLogger(slogLogger{opts.Logger}, false, false)
	}
	go s.Start()
	if !s.ReadyForConnections(readyTimeout) {
		Shutdown(s)
		return nil, fmt.Errorf("start embedded nats: not ready for connections within %s (store %s, %s:%d)",
			readyTimeout, opts.StoreDir, host, opts.Port)
	}
	if !s.JetStreamEnabled() {
		Shutdown(s)
		return nil, fmt.Errorf("start embedded nats: JetStream did not start (store %s)", opts.StoreDir)
	}
	return s, nil
}

// Shutdown stops an embedded server and waits until it has fully stopped, so its
// store is flushed and closed before the process exits. A nil server is a no-op.
func Shutdown(s *server.Server) {
	if s == nil {
		return
	}
	s.Shutdown()
	s.WaitForShutdown()
}

// Reconnect settings. A service must ride out a broker restart (rolling upgrade,
// crash) without restarting itself: reconnect forever, and buffer what is published
// meanwhile. JetStream publishes still fail with a timeout if no ack arrives, so the
// outbox keeps the truth; the buffer only smooths short blips.
const (
	reconnectWait    = 500 * time.Millisecond
	reconnectJitter  = 250 * time.Millisecond
	reconnectBufSize = 8 << 20 // 8 MiB
	connectRetryWait = 500 * time.Millisecond
)

// Connect dials a NATS server by URL with Trueup's reconnect policy. If the server is
// not reachable yet (services often start before the broker), it keeps trying until
// ctx is done. Extra options (credentials, TLS) are applied after the defaults and so
// may override them.
func Connect(ctx context.Context, url string, name string, extra ...nats.Option) (*nats.Conn, error) {
	opts := append(connOptions(name), extra...)
	shown := redactURL(url)
	for attempt := 1; ; attempt++ {
		nc, err := nats.Connect(url, opts...)
		if err == nil {
			return nc, nil
		}
		// Say so at once and then now and then, so a pod waiting for NATS is
		// visible in its logs long before a probe kills it.
		if attempt == 1 || attempt%20 == 0 {
			slog.Default().WarnContext(ctx, "waiting for nats", "url", shown, "attempt", attempt, "error", err)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("connect to nats %s as %q: %w (last error: %w)", shown, name, ctx.Err(), err)
		case <-time.After(connectRetryWait):
		}
	}
}

// redactURL hides credentials in a NATS URL (or a comma-separated list) for
// logs and errors.
func redactURL(s string) string {
	parts := strings.Split(s, ",")
	for i, p := range parts {
		u, err := neturl.Parse(strings.TrimSpace(p))
		if err != nil {
			// Its credentials cannot be found: show the scheme alone.
			parts[i] = config.RedactURL(p)
			continue
		}
		if u.User != nil {
			parts[i] = u.Redacted()
			if _, hasPw := u.User.Password(); !hasPw { // a token in the user part
				u.User = neturl.User("xxxxx")
				parts[i] = u.String()
			}
		}
	}
	return strings.Join(parts, ",")
}

// ConnectEmbedded connects to an embedded server in-process, without a TCP socket.
func ConnectEmbedded(s *server.Server, name string, extra ...nats.Option) (*nats.Conn, error) {
	opts := append(connOptions(name), nats.InProcessServer(s))
	opts = append(opts, extra...)
	nc, err := nats.Connect("", opts...)
	if err != nil {
		return nil, fmt.Errorf("connect to embedded nats as %q: %w", name, err)
	}
	return nc, nil
}

func connOptions(name string) []nats.Option {
	log := slog.Default().With("nats_client", name)
	return []nats.Option{
		nats.Name(name),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(reconnectWait),
		nats.ReconnectJitter(reconnectJitter, reconnectJitter),
		nats.ReconnectBufSize(reconnectBufSize),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				log.Warn("nats disconnected", "error", err)
			}
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			log.Info("nats reconnected", "url", nc.ConnectedUrlRedacted())
		}),
		nats.ErrorHandler(func(_ *nats.Conn, sub *nats.Subscription, err error) {
			subject := ""
			if sub != nil {
				subject = sub.Subject
			}
			log.Error("nats async error", "error", err, "subject", subject)
		}),
	}
}

// slogLogger adapts slog to the server's logger interface.
type slogLogger struct{ l *slog.Logger }

func (s slogLogger) Noticef(format string, v ...any) { s.l.Debug(fmt.Sprintf(format, v...)) }
func (s slogLogger) Warnf(format string, v ...any)   { s.l.Warn(fmt.Sprintf(format, v...)) }
func (s slogLogger) Fatalf(format string, v ...any)  { s.l.Error(fmt.Sprintf(format, v...)) }
func (s slogLogger) Errorf(format string, v ...any)  { s.l.Error(fmt.Sprintf(format, v...)) }
func (s slogLogger) Debugf(format string, v ...any)  { s.l.Debug(fmt.Sprintf(format, v...)) }
func (s slogLogger) Tracef(format string, v ...any)  { s.l.Debug(fmt.Sprintf(format, v...)) }
