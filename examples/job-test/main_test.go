package main

import (
	"testing"

	"github.com/onvm-network/onvm/examples/internal/golden"
	"github.com/onvm-network/onvm/guest"
	"github.com/onvm-network/onvm/guest/guesttest"
)

func TestTranscript(t *testing.T) {
	h := guesttest.New()
	golden.Replay(t, "testdata/calls.txtar", func(in []byte) ([]byte, error) { return h.Call(guest.Registered(), in) })
}

func TestInvalidUTF8(t *testing.T) {
	got, err := guesttest.New().Call(handle, []byte("{\"task\":\"\xc3\x28\"}"))
	want := `{"status":"error","result":"utf8 error: invalid utf-8 sequence of 1 bytes from index 9","iterations_completed":0,"fuel_estimate":"unknown"}`
	if err != nil || string(got) != want {
		t.Errorf("got %s, %v\nwant %s", got, err, want)
	}
}

func TestParseU64(t *testing.T) {
	tests := []struct {
		in   string
		want uint64
		ok   bool
	}{
		{"42", 42, true}, {"+42", 42, true}, {"", 0, false}, {"+", 0, false}, {"-1", 0, false},
		{" 1", 0, false}, {"1_000", 0, false}, {"18446744073709551615", 1<<64 - 1, true},
		{"18446744073709551616", 0, false}, {"++1", 0, false}, {"0x10", 0, false},
	}
	for _, tt := range tests {
		got, err := parseU64(tt.in)
		if (err == nil) != tt.ok || got != tt.want && tt.ok {
			t.Errorf("parseU64(%q) = %d, %v", tt.in, got, err)
		}
	}
}
