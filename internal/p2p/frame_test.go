package p2p

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/onvm-network/onvm/internal/codec"
	"github.com/onvm-network/onvm/internal/dag"
	"github.com/onvm-network/onvm/internal/id"
)

func TestFrameRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	in := &syncReq{Op: syncOpPull, VV: []dag.VVEntry{{Author: id.Node{1}, Seq: 3}}, From: 9}
	if err := writeMsg(&buf, in); err != nil {
		t.Fatal(err)
	}
	var out syncReq
	r := bufio.NewReader(&buf)
	if err := readMsg(r, maxSyncRequest, &out); err != nil {
		t.Fatal(err)
	}
	if out.From != 9 || len(out.VV) != 1 {
		t.Fatalf("got %+v", out)
	}
	if err := readMsg(r, maxSyncRequest, &out); !errors.Is(err, io.EOF) {
		t.Fatalf("read past the end = %v", err)
	}
	tests := []struct {
		name  string
		input []byte
		want  error
	}{
		{"over the limit", []byte{0x81, 0x80, 0x04}, ErrTooLarge},
		{"overflowing header", bytes.Repeat([]byte{0xff}, 11), ErrProtocol},
		{"truncated header", []byte{0x80}, io.ErrUnexpectedEOF},
		{"truncated body", []byte{0x05, 0xa0}, io.ErrUnexpectedEOF},
		{"not CBOR", []byte{0x01, 0xff}, ErrProtocol},
		{"trailing byte", []byte{0x02, 0xa0, 0x00}, ErrProtocol},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var v syncResp
			if err := readMsg(bufio.NewReader(bytes.NewReader(tt.input)), 1<<16, &v); !errors.Is(err, tt.want) {
				t.Fatalf("readMsg = %v, want %v", err, tt.want)
			}
		})
	}
}

// FuzzMessages feeds arbitrary frames to every message decoder of the
// stream protocols and to the announcement decoder: no panic, and what is
// accepted is canonical.
func FuzzMessages(f *testing.F) {
	for _, v := range []any{
		&syncReq{Op: syncOpGet, IDs: []id.Hash{{1}}}, &syncResp{Heads: []id.Hash{{2}}, Done: true},
		&blobReq{Op: blobOpGroups, Blob: id.Blob{3}, First: 1, Count: 2}, &blobResp{Size: 5, Length: 5},
		&execReq{Payload: []byte("x")}, &execResp{Status: execFailed, Error: "e"},
		&Announcement{Blobs: []id.Blob{{4}}},
	} {
		var buf bytes.Buffer
		_ = writeMsg(&buf, v)
		f.Add(uint8(0), buf.Bytes())
	}
	f.Fuzz(func(t *testing.T, which uint8, b []byte) {
		if which%8 == 7 {
			if a, err := decodeAnnouncement(b); err == nil && !bytes.Equal(codec.MustMarshal(a), b) {
				t.Fatal("non-canonical announcement accepted")
			}
			return
		}
		targets := []func() any{
			func() any { return new(syncReq) }, func() any { return new(syncResp) },
			func() any { return new(blobReq) }, func() any { return new(blobResp) },
			func() any { return new(execReq) }, func() any { return new(execResp) },
			func() any { return new(Announcement) },
		}
		v := targets[int(which%8)%len(targets)]()
		r := bufio.NewReader(bytes.NewReader(b))
		n, err := readFrameLen(r, 1<<20)
		if err != nil {
			return
		}
		body := make([]byte, n)
		if _, err := io.ReadFull(r, body); err != nil {
			return
		}
		if codec.Unmarshal(body, v) == nil && !bytes.Equal(codec.MustMarshal(v), body) {
			t.Fatal("non-canonical message accepted")
		}
	})
}
