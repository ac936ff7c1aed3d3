package apperr

import (
	"errors"
	"testing"
)

func TestWithFieldPrefix(t *testing.T) {
	err := Invalid(Field("lines[0].account", "unknown"))
	got := WithFieldPrefix(err, "journal_entry.")
	var e *Error
	if !errors.As(got, &e) || e.Violations[0].Field != "journal_entry.lines[0].account" || e.Message != "invalid journal_entry.lines[0].account: unknown" {
		t.Errorf("prefixed = %+v", e)
	}
	if err.Violations[0].Field != "lines[0].account" {
		t.Error("the original error was changed")
	}
	plain := errors.New("x")
	if WithFieldPrefix(plain, "p.") != plain {
		t.Error("an error without violations changed")
	}
}
