package client

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/onvm-network/onvm/client/wire"
)

// TestErrorSentinels: an answer's code and status match their sentinels
// with errors.Is, through wrapping and through an *ExecError, and nothing
// else matches.
func TestErrorSentinels(t *testing.T) {
	answers := map[string]struct {
		status int
		code   string
	}{
		"/jobs/" + fmt.Sprintf("%064d", 1):         {409, wire.CodeJobTerminal},
		"/jobs/" + fmt.Sprintf("%064d", 2):         {404, wire.CodeNotFound},
		"/jobs/" + fmt.Sprintf("%064d", 3):         {401, wire.CodeBadSignature},
		"/jobs/" + fmt.Sprintf("%064d", 4):         {429, wire.CodeRateLimited},
		"/programs/prog" + fmt.Sprintf("%064d", 5): {404, wire.CodeUnknownRoot},
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a := answers[r.URL.Path]
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(a.status)
		_, _ = io.WriteString(w, `{"error":{"code":"`+a.code+`","message":"m"}}`)
	}))
	defer srv.Close()
	c, _ := New(srv.URL)
	ctx := t.Context()
	job := func(n int) error {
		_, err := c.Job(ctx, fmt.Sprintf("%064d", n))
		return fmt.Errorf("wrapped: %w", err)
	}
	_, progErr := c.Program(ctx, "prog"+fmt.Sprintf("%064d", 5))
	for _, tt := range []struct {
		name   string
		err    error
		target error
		want   bool
	}{
		{"code", job(1), ErrJobTerminal, true},
		{"code by value", job(1), ErrorCode(wire.CodeJobTerminal), true},
		{"other code", job(1), ErrJobNotCompleted, false},
		{"not found by status", job(2), ErrNotFound, true},
		{"not found by code", job(2), ErrorCode(wire.CodeNotFound), true},
		{"404 of another code", progErr, ErrNotFound, true},
		{"404 is not its code", progErr, ErrorCode(wire.CodeNotFound), false},
		{"unauthorized", job(3), ErrUnauthorized, true},
		{"unauthorized code", job(3), ErrorCode(wire.CodeBadSignature), true},
		{"not rate limited", job(3), ErrRateLimited, false},
		{"rate limited", job(4), ErrRateLimited, true},
		{"conflict is not not found", job(1), ErrNotFound, false},
		{"exec error unwraps", &ExecError{Err: &Error{Status: 422, Code: wire.CodeOutOfFuel}}, ErrorCode(wire.CodeOutOfFuel), true},
	} {
		if got := errors.Is(tt.err, tt.target); got != tt.want {
			t.Errorf("%s: errors.Is(%v, %v) = %v", tt.name, tt.err, tt.target, got)
		}
	}
	if !IsNotFound(job(2)) || IsNotFound(job(1)) {
		t.Error("IsNotFound")
	}
}
