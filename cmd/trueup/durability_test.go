package main

import (
	"strings"
	"testing"
)

// TestServeRefusesConfigurationsThatLoseAcknowledgedEvents: below three stream
// replicas only an explicit single-node install may start, and a SQLite
// database must commit durably before its relay publishes.
func TestServeRefusesConfigurationsThatLoseAcknowledgedEvents(t *testing.T) {
	tests := []struct {
		name       string
		dsn        string
		replicas   int
		singleNode bool
		refused    string // "" when accepted
	}{
		{"cluster default", "postgres://db/x", 3, false, ""},
		{"one replica without saying single node", "postgres://db/x", 1, false, "--single-node"},
		{"two replicas without saying single node", "postgres://db/x", 2, false, "--single-node"},
		{"single node accepted", "postgres://db/x", 1, true, ""},
		{"no replicas", "postgres://db/x", 0, true, "at least 1"},
		{"sqlite default is FULL", "sqlite:///var/lib/trueup/inventory.db", 1, true, ""},
		{"sqlite NORMAL refused", "sqlite:///var/lib/trueup/inventory.db?_synchronous=NORMAL", 1, true, "_synchronous=NORMAL"},
		{"sqlite OFF refused", "sqlite://x.db?_busy_timeout=5&_synchronous=OFF", 1, true, "_synchronous=OFF"},
		{"sqlite EXTRA accepted", "sqlite://x.db?_synchronous=EXTRA", 1, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkDurability(tt.dsn, tt.replicas, tt.singleNode)
			switch {
			case tt.refused == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tt.refused != "" && err == nil:
				t.Errorf("accepted, want a refusal naming %q", tt.refused)
			case tt.refused != "" && !strings.Contains(err.Error(), tt.refused):
				t.Errorf("refusal %q does not name %q", err, tt.refused)
			}
		})
	}
}
