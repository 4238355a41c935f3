package main

import (
	"bytes"
	"testing"

	"github.com/onvm-network/onvm/examples/internal/golden"
	"github.com/onvm-network/onvm/guest"
	"github.com/onvm-network/onvm/guest/guesttest"
)

func TestTranscript(t *testing.T) {
	h := guesttest.New()
	golden.Replay(t, "testdata/calls.txtar", func(in []byte) ([]byte, error) { return h.Call(guest.Registered(), in) })
}

func TestBytes(t *testing.T) {
	in := make([]byte, 256)
	for i := range in {
		in[i] = byte(i)
	}
	got, err := handle(nil, in)
	if err != nil {
		t.Fatal(err)
	}
	want := bytes.Clone(in)
	for i := 'a'; i <= 'z'; i++ {
		want[i] = byte(i) - 32
	}
	if !bytes.Equal(got, want) {
		t.Errorf("got %x\nwant %x", got, want)
	}
}
