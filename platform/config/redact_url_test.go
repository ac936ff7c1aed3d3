package config

import (
	"strings"
	"testing"
)

func TestRedactURLHidesEveryPasswordForm(t *testing.T) {
	cases := []struct {
		name, in, want string
	}{
		{"user and password", "postgres://u:secret@db:5432/x", "postgres://u:xxxxx@db:5432/x"},
		{"password parameter", "postgres://u@db/x?sslmode=require&password=secret", "postgres://u@db/x?sslmode=require&password=xxxxx"},
		{"both", "postgres://u:secret@127.0.0.1:1/x?password=secret2&sslpassword=secret3", "postgres://u:xxxxx@127.0.0.1:1/x?password=xxxxx&sslpassword=xxxxx"},
		{"parameter case", "postgresql://db/x?PassWord=secret", "postgresql://db/x?PassWord=xxxxx"},
		{"encoded parameter name", "postgres://db/x?pass%77ord=secret", "postgres://db/x?pass%77ord=xxxxx"},
		{"empty password parameter", "postgres://db/x?password=", "postgres://db/x?password=xxxxx"},
		{"no secret", "postgres://u@db/x?sslmode=verify-full", "postgres://u@db/x?sslmode=verify-full"},
		{"sqlite", "sqlite:///var/lib/trueup/ledger.db?_busy_timeout=1000", "sqlite:///var/lib/trueup/ledger.db?_busy_timeout=1000"},
		{"nats token", "nats://u:tok@nats:4222", "nats://u:xxxxx@nats:4222"},
		{"unparseable URL", "postgres://u:se%zzcret@db/x", "postgres://xxxxx"},
		{"unparseable, bad scheme", "host=db password=secret://x%zz", "xxxxx"},
		{"keyword DSN", "host=db user=u password=secret dbname=x", "host=db user=u password=xxxxx dbname=x"},
		{"keyword DSN, quoted", "host=db password='se cret\\' x' dbname=x", "host=db password=xxxxx dbname=x"},
		{"keyword DSN, spaces and case", "host=db SSLPassword = secret", "host=db SSLPassword = xxxxx"},
		{"keyword DSN first", "password=secret host=db", "password=xxxxx host=db"},
		{"keyword DSN, no secret", "host=db user=passwordless", "host=db user=passwordless"},
		{"empty", "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := RedactURL(c.in)
			if got != c.want {
				t.Errorf("RedactURL(%q) = %q, want %q", c.in, got, c.want)
			}
			if strings.Contains(got, "secret") || strings.Contains(got, "tok@") {
				t.Errorf("RedactURL(%q) = %q still holds the secret", c.in, got)
			}
		})
	}
}
