package main

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"google.golang.org/grpc"

	"trueup.dev/cmd/trueup/internal/suite"
	"trueup.dev/platform/config"
	"trueup.dev/platform/grpcserver"
)

// devServiceTokenFile, in the dev data directory, holds the service token of
// the `trueup dev` stack, which the CLI commands send by default.
const devServiceTokenFile = "service-token"

// minServiceTokenLen keeps a guessable token out of production: 32 random
// bytes in base64 (openssl rand -base64 32) are 44 characters.
const minServiceTokenLen = 32

// bindServiceToken binds --service-token, the internal credential every
// caller of a service's gRPC port sends (see grpcserver.Options.ServiceToken).
func bindServiceToken(fs *flag.FlagSet, p *config.Redacted, usage string) {
	config.Secret(fs, p, "service-token", "TRUEUP_SERVICE_TOKEN", usage)
}

// grpcTarget is a service's gRPC address and the service token to call it with.
type grpcTarget struct {
	addr  string
	token config.Redacted
}

// dial connects to the target through grpcserver.Dial (errors come back as
// *apperr.Error values), sending the token on every call.
func (t grpcTarget) dial() (*grpc.ClientConn, error) {
	return grpcserver.Dial(t.addr, t.credentials())
}

// credentials is the dial option sending the token, for the commands that
// dial with grpc.NewClient.
func (t grpcTarget) credentials() grpc.DialOption {
	return grpcserver.WithServiceToken(t.token.Reveal())
}

// clientFlags are the flags of a CLI command that calls a service over gRPC:
// the token, and the dev data directory whose token is the default.
type clientFlags struct {
	token   config.Redacted
	dataDir string
}

func (c *clientFlags) bind(fs *flag.FlagSet) {
	bindServiceToken(fs, &c.token, "the services' internal credential (default: the `trueup dev` stack's, from --data-dir)")
	config.String(fs, &c.dataDir, "data-dir", "TRUEUP_DATA_DIR", ".trueup", "the `trueup dev` data directory, whose "+devServiceTokenFile+" file is the default --service-token")
}

// target returns addr with the token given, else the dev stack's when its
// data directory has one, else none (a server that needs one refuses).
func (c *clientFlags) target(addr string) (grpcTarget, error) {
	if c.token.Reveal() != "" {
		return grpcTarget{addr: addr, token: c.token}, nil
	}
	b, err := os.ReadFile(filepath.Join(c.dataDir, devServiceTokenFile))
	switch {
	case errors.Is(err, os.ErrNotExist):
		return grpcTarget{addr: addr}, nil
	case err != nil:
		return grpcTarget{}, fmt.Errorf("read the dev service token: %w", err)
	}
	return grpcTarget{addr: addr, token: config.Redacted(strings.TrimSpace(string(b)))}, nil
}

// devServiceToken returns the dev stack's service token, creating it on first
// start: random per data directory (0600), like the dev API key.
func devServiceToken(dataDir string) (config.Redacted, error) {
	path := filepath.Join(dataDir, devServiceTokenFile)
	if b, err := os.ReadFile(path); err == nil {
		if tok := strings.TrimSpace(string(b)); tok != "" {
			return config.Redacted(tok), nil
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("dev service token: %w", err)
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", err
	}
	tok := base64.RawURLEncoding.EncodeToString(raw)
	if err := os.WriteFile(path, []byte(tok+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("dev service token: %w", err)
	}
	return config.Redacted(tok), nil
}

// checkServiceToken is serve's rule: a token of minServiceTokenLen or more,
// or an explicit --insecure-internal.
func checkServiceToken(token config.Redacted, insecureInternal bool) error {
	switch n := len(token.Reveal()); {
	case n == 0 && !insecureInternal:
		return errors.New("--service-token (TRUEUP_SERVICE_TOKEN) is required: without it anyone who reaches the gRPC port can call the service as any partner; " +
			"pass --insecure-internal (TRUEUP_INSECURE_INTERNAL=true) to run without one")
	case n > 0 && n < minServiceTokenLen:
		return fmt.Errorf("--service-token: %d characters, want at least %d (e.g. openssl rand -base64 32)", n, minServiceTokenLen)
	}
	return nil
}

// target is the stack's gRPC address with its service token.
func stackTarget(st *suite.Stack) grpcTarget {
	return grpcTarget{addr: st.GRPCAddr, token: st.ServiceToken}
}
