package main

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/onvm-network/onvm/examples/internal/blake3"
	"github.com/onvm-network/onvm/examples/internal/golden"
	"github.com/onvm-network/onvm/guest"
	"github.com/onvm-network/onvm/guest/guesttest"
)

// TestTranscript replays testdata/calls.txtar (the samples, every
// operation, the quirks and the error messages) on one state.
func TestTranscript(t *testing.T) {
	h := guesttest.New()
	golden.Replay(t, "testdata/calls.txtar", func(in []byte) ([]byte, error) { return h.Call(guest.Registered(), in) })
}

type step struct{ in, want string }

func run(t *testing.T, h *guesttest.Host, steps []step) {
	t.Helper()
	for _, s := range steps {
		got, err := h.Call(handle, []byte(s.in))
		if err != nil || string(got) != s.want {
			t.Errorf("%s:\n got  %s, %v\n want %s", s.in, got, err, s.want)
		}
	}
}

// TestStateLayout pins where the program keeps things: values under their
// raw keys, the index under __keys as base64 of the sorted, comma-joined
// keys, and clear leaving empty values and an empty index.
func TestStateLayout(t *testing.T) {
	h := guesttest.New()
	x := blake3.Hex([]byte("x"))
	run(t, h, []step{
		{`{"op":"put","key":"b","data_base64":"eA=="}`, `{"status":"okput","key":"b","size":1,"checksum":"` + x + `"}`},
		{`{"op":"put","key":"a","data_base64":"eA=="}`, `{"status":"okput","key":"a","size":1,"checksum":"` + x + `"}`},
		{`{"op":"put","key":"a","data_base64":"eA=="}`, `{"status":"okput","key":"a","size":1,"checksum":"` + x + `"}`},
	})
	if v, _ := h.Value([]byte("__keys")); string(v) != base64.StdEncoding.EncodeToString([]byte("a,b")) {
		t.Errorf("__keys = %q", v)
	}
	if v, _ := h.Value([]byte("a")); string(v) != "x" {
		t.Errorf("a = %q", v)
	}
	run(t, h, []step{{`{"op":"clear"}`, `{"status":"okclear","removed":2}`}})
	for _, k := range []string{"a", "b", "__keys"} {
		if v, ok := h.Value([]byte(k)); !ok || len(v) != 0 {
			t.Errorf("%s after clear = %q, %v; want present and empty", k, v, ok)
		}
	}
}

// TestLargeValue exercises the SDK's growing read buffer (values > 1 KiB).
func TestLargeValue(t *testing.T) {
	data := strings.Repeat("0123456789", 1000)
	b64 := base64.StdEncoding.EncodeToString([]byte(data))
	sum := blake3.Hex([]byte(data))
	run(t, guesttest.New(), []step{
		{`{"op":"put","key":"big","data_base64":"` + b64 + `"}`, `{"status":"okput","key":"big","size":10000,"checksum":"` + sum + `"}`},
		{`{"op":"get","key":"big"}`, `{"status":"okget","key":"big","size":10000,"checksum":"` + sum + `","data_base64":"` + b64 + `"}`},
	})
}
