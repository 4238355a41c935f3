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
	tests := []struct{ in, want string }{
		{"{\"text\":\"\xff\"}", `{"error":"utf8: invalid utf-8 sequence of 1 bytes from index 9"}`},
		{"{\"text\":\"\xe2\x82", `{"error":"utf8: incomplete utf-8 byte sequence from index 9"}`},
	}
	for _, tt := range tests {
		got, err := guesttest.New().Call(handle, []byte(tt.in))
		if err != nil || string(got) != tt.want {
			t.Errorf("%q: got %s, %v; want %s", tt.in, got, err, tt.want)
		}
	}
}
