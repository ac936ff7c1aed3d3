// Package config binds command-line flags to environment variables without a
// framework: every setting is a flag, and each flag may name an environment
// variable to fall back on. Precedence is flag, then environment, then default.
//
// Binding only declares; Parse does the work, so a bad environment value comes
// back as an error from Parse instead of a panic at start-up:
//
//	fs := flag.NewFlagSet("ledger", flag.ContinueOnError)
//	var addr string
//	config.String(fs, &addr, "grpc-addr", "LEDGER_GRPC_ADDR", ":9090", "gRPC listen address")
//	if err := config.Parse(fs, os.Args[1:]); err != nil { ... }
package config

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"time"
)

// String binds a string flag with an environment fallback and a default.
func String(fs *flag.FlagSet, p *string, name, env, def, usage string) {
	bind[string](fs, name, env, usage, func(tmp *flag.FlagSet) { tmp.StringVar(p, name, def, "") })
}

// Int binds an int flag with an environment fallback and a default. Values are
// parsed as Go integer literals (base prefixes such as 0x are accepted).
func Int(fs *flag.FlagSet, p *int, name, env string, def int, usage string) {
	bind[int](fs, name, env, usage, func(tmp *flag.FlagSet) { tmp.IntVar(p, name, def, "") })
}

// Bool binds a bool flag with an environment fallback and a default. The
// environment accepts what strconv.ParseBool accepts (1, t, true, 0, f, false…).
func Bool(fs *flag.FlagSet, p *bool, name, env string, def bool, usage string) {
	bind[bool](fs, name, env, usage, func(tmp *flag.FlagSet) { tmp.BoolVar(p, name, def, "") })
}

// Duration binds a time.Duration flag with an environment fallback and a
// default; values use time.ParseDuration syntax ("250ms", "20s").
func Duration(fs *flag.FlagSet, p *time.Duration, name, env string, def time.Duration, usage string) {
	bind[time.Duration](fs, name, env, usage, func(tmp *flag.FlagSet) { tmp.DurationVar(p, name, def, "") })
}

// Secret binds a secret (a password, a DSN with credentials, an API key). It has
// no default on purpose, and neither usage text, nor fmt, nor slog ever show its
// value. Prefer the environment variable: command lines are visible in ps.
func Secret(fs *flag.FlagSet, p *Redacted, name, env, usage string) {
	fs.Var(&envValue[string]{Value: (*secretValue)(p), env: env}, name, withEnvHint(usage, env))
}

// Parse parses args into fs, then fills every bound flag that was not given on
// the command line from its environment variable, if that variable is set and
// not empty. It returns fs.Parse's error (flag.ErrHelp included) as is, or all
// environment values that did not parse, joined.
func Parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	explicit := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { explicit[f.Name] = true })

	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		ev, ok := f.Value.(envBound)
		if !ok || ev.envName() == "" || explicit[f.Name] {
			return
		}
		// An empty variable counts as unset: manifests often template empty
		// values, and "" is never a valid int, bool or duration.
		v := os.Getenv(ev.envName())
		if v == "" {
			return
		}
		if err := f.Value.Set(v); err != nil {
			errs = append(errs, fmt.Errorf("environment variable %s (flag -%s): %w", ev.envName(), f.Name, err))
		}
	})
	return errors.Join(errs...)
}

// bind declares the flag on a throwaway FlagSet to reuse the standard library's
// parsing for the type, then registers that value on fs wrapped with its env name.
// T is the flag's Go type; it only serves to render the zero value (see String).
func bind[T any](fs *flag.FlagSet, name, env, usage string, declare func(*flag.FlagSet)) {
	tmp := flag.NewFlagSet(name, flag.ContinueOnError)
	declare(tmp)
	fs.Var(&envValue[T]{Value: tmp.Lookup(name).Value, env: env}, name, withEnvHint(usage, env))
}

func withEnvHint(usage, env string) string {
	if env == "" {
		return usage
	}
	return usage + " (env " + env + ")"
}

// envBound is how Parse recognises the flags this package bound.
type envBound interface{ envName() string }

// envValue is a flag.Value that remembers which environment variable backs it,
// so that Parse can find the bindings on the FlagSet alone.
type envValue[T any] struct {
	flag.Value
	env string
}

func (v *envValue[T]) envName() string { return v.env }

// String must work on the zero value: flag.PrintDefaults calls it on a fresh
// one to decide whether a default is worth printing, and T's zero value is what
// the wrapped standard value would have said ("false", "0", "0s", "").
func (v *envValue[T]) String() string {
	if v == nil || v.Value == nil {
		var zero T
		return fmt.Sprint(zero)
	}
	return v.Value.String()
}

// IsBoolFlag keeps "-verbose" (without "=true") working for wrapped bools.
func (v *envValue[T]) IsBoolFlag() bool {
	b, ok := v.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// Get implements flag.Getter when the wrapped value does.
func (v *envValue[T]) Get() any {
	if g, ok := v.Value.(flag.Getter); ok {
		return g.Get()
	}
	return v.Value.String()
}
