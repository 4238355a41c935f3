package codec

import (
	"bytes"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

type sample struct {
	ID     [32]byte          `cbor:"1,keyasint"`
	Height uint64            `cbor:"2,keyasint"`
	Name   string            `cbor:"3,keyasint"`
	Data   []byte            `cbor:"4,keyasint,omitempty"`
	Tags   map[string]uint32 `cbor:"5,keyasint,omitempty"`
}

func TestRoundTrip(t *testing.T) {
	in := sample{ID: [32]byte{1, 2, 3}, Height: 1 << 40, Name: "x", Data: []byte{9}, Tags: map[string]uint32{"b": 2, "a": 1, "cc": 3}}
	b, err := Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	var out sample
	if err := Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(in, out); diff != "" {
		t.Fatal(diff)
	}
	// Map order must not depend on insertion order.
	in2 := in
	in2.Tags = map[string]uint32{"cc": 3, "a": 1, "b": 2}
	if b2 := MustMarshal(in2); !bytes.Equal(b, b2) {
		t.Fatal("encoding depends on map insertion order")
	}
}

func TestRejects(t *testing.T) {
	good := MustMarshal(sample{Name: "x"})
	cases := map[string][]byte{
		"trailing":      append(append([]byte{}, good...), 0),
		"unknown field": MustMarshal(map[int]any{1: make([]byte, 32), 2: 0, 3: "x", 9: 1}),
		// Height 1 encoded in two bytes (0x18 0x01) instead of one: decodes,
		// but is not canonical.
		"non-canonical int": {0xa3, 0x01, 0x58, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, 0x18, 0x01, 0x03, 0x61, 'x'},
		"indefinite":        {0xbf, 0x03, 0x61, 'x', 0xff},
		"duplicate key":     {0xa2, 0x03, 0x61, 'x', 0x03, 0x61, 'y'},
		"truncated":         good[:len(good)-1],
	}
	for name, data := range cases {
		t.Run(name, func(t *testing.T) {
			var out sample
			if err := Unmarshal(data, &out); err == nil {
				t.Fatalf("accepted %x as %+v", data, out)
			}
		})
	}
	var out sample
	if err := Unmarshal(make([]byte, MaxSize+1), &out); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("oversize: %v", err)
	}
}

func FuzzUnmarshal(f *testing.F) {
	f.Add(MustMarshal(sample{Name: "x", Tags: map[string]uint32{"a": 1}}))
	f.Add([]byte{0xa0})
	f.Fuzz(func(t *testing.T, data []byte) {
		var v sample
		if err := Unmarshal(data, &v); err != nil {
			return
		}
		// Accepted bytes are canonical: re-encoding gives them back.
		if again := MustMarshal(v); !bytes.Equal(again, data) {
			t.Fatalf("accepted non-canonical %x (canonical %x)", data, again)
		}
	})
}
