package gateway

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"regexp"

	"google.golang.org/grpc/grpclog"
)

// maxLogText bounds any client- or service-supplied text the gateway logs: a
// 900 KiB header must not become a 900 KiB log line.
const maxLogText = 1024

// boundedText cuts s to maxLogText bytes, saying how much was cut.
func boundedText(s string) string {
	if len(s) <= maxLogText {
		return s
	}
	return fmt.Sprintf("%s…(%d bytes cut)", s[:maxLogText], len(s)-maxLogText)
}

var (
	// userinfoRE matches the password of a URL's userinfo: scheme://user:pass@.
	userinfoRE = regexp.MustCompile(`([a-zA-Z][a-zA-Z0-9+.-]*://[^/@\s:]*):[^/@\s]*@`)
	// secretParamRE matches a secret-looking query or DSN parameter.
	secretParamRE = regexp.MustCompile(`(?i)((?:password|passwd|pwd|pass|secret|token|access_token|api[_-]?key|apikey|sslpassword|sig|signature)=)[^&\s"';]*`)
)

// redactSecrets hides the secrets a URL or DSN may carry (user:pass@, and
// parameters such as ?password= or &token=) in text bound for a log.
func redactSecrets(s string) string {
	s = userinfoRE.ReplaceAllString(s, "${1}:REDACTED@")
	return secretParamRE.ReplaceAllString(s, "${1}REDACTED")
}

// SetGRPCLogger sends grpc-gateway's and grpc-go's own log lines (grpclog)
// through log, the process's JSON logger, bounded and redacted, instead of
// grpclog's default plain-text writer on stderr. grpclog's logger is global and
// not synchronised: call this once at start-up, before any gRPC use.
func SetGRPCLogger(log *slog.Logger) {
	grpclog.SetLoggerV2(newGRPCLogger(log))
}

// grpcLogger adapts slog to grpclog.LoggerV2. grpc's informational chatter
// (connection states) goes to DEBUG.
type grpcLogger struct{ log *slog.Logger }

func newGRPCLogger(log *slog.Logger) grpclog.LoggerV2 {
	return grpcLogger{log: log.With("component", "grpclog")}
}

func (g grpcLogger) emit(level slog.Level, msg string) {
	g.log.Log(context.Background(), level, boundedText(redactSecrets(msg)))
}

func (g grpcLogger) Info(args ...any)   { g.emit(slog.LevelDebug, fmt.Sprint(args...)) }
func (g grpcLogger) Infoln(args ...any) { g.emit(slog.LevelDebug, fmt.Sprint(args...)) }
func (g grpcLogger) Infof(format string, args ...any) {
	g.emit(slog.LevelDebug, fmt.Sprintf(format, args...))
}
func (g grpcLogger) Warning(args ...any)   { g.emit(slog.LevelWarn, fmt.Sprint(args...)) }
func (g grpcLogger) Warningln(args ...any) { g.emit(slog.LevelWarn, fmt.Sprint(args...)) }
func (g grpcLogger) Warningf(format string, args ...any) {
	g.emit(slog.LevelWarn, fmt.Sprintf(format, args...))
}
func (g grpcLogger) Error(args ...any)   { g.emit(slog.LevelError, fmt.Sprint(args...)) }
func (g grpcLogger) Errorln(args ...any) { g.emit(slog.LevelError, fmt.Sprint(args...)) }
func (g grpcLogger) Errorf(format string, args ...any) {
	g.emit(slog.LevelError, fmt.Sprintf(format, args...))
}
func (g grpcLogger) Fatal(args ...any)   { g.emit(slog.LevelError, fmt.Sprint(args...)); os.Exit(1) }
func (g grpcLogger) Fatalln(args ...any) { g.emit(slog.LevelError, fmt.Sprint(args...)); os.Exit(1) }
func (g grpcLogger) Fatalf(format string, args ...any) {
	g.emit(slog.LevelError, fmt.Sprintf(format, args...))
	os.Exit(1)
}

// V reports whether verbosity level l is on: only level 0.
func (g grpcLogger) V(l int) bool { return l <= 0 }
