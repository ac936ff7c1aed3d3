package config

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// settings is one of every kind of binding, so each case exercises them all.
type settings struct {
	addr    string
	port    int
	debug   bool
	timeout time.Duration
	token   Redacted
}

func newFlagSet(s *settings) *flag.FlagSet {
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(new(bytes.Buffer))
	String(fs, &s.addr, "addr", "T_ADDR", ":9090", "listen address")
	Int(fs, &s.port, "port", "T_PORT", 8080, "HTTP port")
	Bool(fs, &s.debug, "debug", "T_DEBUG", false, "debug mode")
	Duration(fs, &s.timeout, "timeout", "T_TIMEOUT", 20*time.Second, "drain timeout")
	Secret(fs, &s.token, "token", "T_TOKEN", "API token")
	return fs
}

func TestPrecedence(t *testing.T) {
	defaults := settings{addr: ":9090", port: 8080, timeout: 20 * time.Second}
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want settings
	}{
		{name: "defaults", want: defaults},
		{
			name: "env over default",
			env:  map[string]string{"T_ADDR": ":1", "T_PORT": "0x10", "T_DEBUG": "true", "T_TIMEOUT": "5s", "T_TOKEN": "s3cret"},
			want: settings{addr: ":1", port: 16, debug: true, timeout: 5 * time.Second, token: "s3cret"},
		},
		{
			name: "flag over env",
			env:  map[string]string{"T_ADDR": ":1", "T_PORT": "1", "T_DEBUG": "true", "T_TIMEOUT": "5s", "T_TOKEN": "from-env"},
			args: []string{"-addr", ":2", "-port=2", "-debug=false", "-timeout", "1m", "-token", "from-flag"},
			want: settings{addr: ":2", port: 2, debug: false, timeout: time.Minute, token: "from-flag"},
		},
		{
			name: "flag can set the zero value over env",
			env:  map[string]string{"T_ADDR": ":1"},
			args: []string{"-addr="},
			want: settings{addr: "", port: 8080, timeout: 20 * time.Second},
		},
		{
			name: "empty env counts as unset",
			env:  map[string]string{"T_ADDR": "", "T_PORT": "", "T_DEBUG": "", "T_TIMEOUT": ""},
			want: defaults,
		},
		{
			name: "bare bool flag",
			args: []string{"-debug"},
			want: settings{addr: ":9090", port: 8080, debug: true, timeout: 20 * time.Second},
		},
		{
			name: "bad env is ignored when the flag is given",
			env:  map[string]string{"T_PORT": "eighty"},
			args: []string{"-port", "81"},
			want: settings{addr: ":9090", port: 81, timeout: 20 * time.Second},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			var got settings
			fs := newFlagSet(&got)
			if err := Parse(fs, tt.args); err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestBadEnvValues(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		wantErr []string
	}{
		{name: "int", env: map[string]string{"T_PORT": "eighty"}, wantErr: []string{"T_PORT", "-port"}},
		{name: "bool", env: map[string]string{"T_DEBUG": "yes please"}, wantErr: []string{"T_DEBUG", "-debug"}},
		{name: "duration", env: map[string]string{"T_TIMEOUT": "20"}, wantErr: []string{"T_TIMEOUT", "-timeout"}},
		{
			name:    "all reported at once",
			env:     map[string]string{"T_PORT": "x", "T_TIMEOUT": "y"},
			wantErr: []string{"T_PORT", "T_TIMEOUT"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			var s settings
			err := Parse(newFlagSet(&s), nil)
			if err == nil {
				t.Fatal("Parse succeeded, want an error")
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestParseReturnsFlagErrors(t *testing.T) {
	var s settings
	if err := Parse(newFlagSet(&s), []string{"-port", "x"}); err == nil {
		t.Error("bad flag value: want an error")
	}
	if err := Parse(newFlagSet(&s), []string{"-nope"}); err == nil {
		t.Error("unknown flag: want an error")
	}
	if err := Parse(newFlagSet(&s), []string{"-h"}); err != flag.ErrHelp {
		t.Errorf("-h: got %v, want flag.ErrHelp", err)
	}
}

func TestUsageShowsEnvAndDefaults(t *testing.T) {
	var s settings
	fs := newFlagSet(&s)
	var out bytes.Buffer
	fs.SetOutput(&out)
	fs.PrintDefaults()
	usage := out.String()
	for _, want := range []string{
		"listen address (env T_ADDR) (default :9090)",
		"HTTP port (env T_PORT)", "(default 8080)",
		"debug mode (env T_DEBUG)",
		"drain timeout (env T_TIMEOUT)", "(default 20s)",
		"API token (env T_TOKEN)",
	} {
		if !strings.Contains(usage, want) {
			t.Errorf("usage lacks %q:\n%s", want, usage)
		}
	}
	if strings.Contains(usage, "panic") || strings.Contains(usage, "default false") {
		t.Errorf("usage reports a panic:\n%s", usage)
	}
}

func TestSecretNeverPrinted(t *testing.T) {
	const secret = "hunter2"
	t.Setenv("T_TOKEN", secret)
	var s settings
	fs := newFlagSet(&s)
	if err := Parse(fs, nil); err != nil {
		t.Fatal(err)
	}
	if s.token.Reveal() != secret {
		t.Fatalf("Reveal() = %q, want the secret", s.token.Reveal())
	}

	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("config", "token", s.token)
	jsonOut, err := json.Marshal(struct{ Token Redacted }{s.token})
	if err != nil {
		t.Fatal(err)
	}
	var usage bytes.Buffer
	fs.SetOutput(&usage)
	fs.PrintDefaults()

	renderings := map[string]string{
		"%v":     fmt.Sprintf("%v", s.token),
		"%s":     fmt.Sprintf("%s", s.token),
		"%#v":    fmt.Sprintf("%#v", s.token),
		"%+v":    fmt.Sprintf("%+v", struct{ T Redacted }{s.token}),
		"slog":   logged.String(),
		"json":   string(jsonOut),
		"flag":   fs.Lookup("token").Value.String(),
		"usage":  usage.String(),
		"getter": fmt.Sprint(fs.Lookup("token").Value.(flag.Getter).Get()),
	}
	for name, out := range renderings {
		if strings.Contains(out, secret) {
			t.Errorf("%s rendering leaks the secret: %s", name, out)
		}
	}
	if !strings.Contains(logged.String(), `"token":"[redacted]"`) {
		t.Errorf("slog output = %s, want the token as [redacted]", logged.String())
	}
}
