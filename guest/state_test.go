package guest_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/onvm-network/onvm/guest"
	"github.com/onvm-network/onvm/guest/guesttest"
)

func TestStateGet(t *testing.T) {
	big := bytes.Repeat([]byte("x"), 5000)
	tests := []struct {
		name    string
		stored  []byte // nil: key absent
		want    []byte
		wantErr error
	}{
		{"missing", nil, nil, guest.ErrNotFound},
		{"empty value", []byte{}, []byte{}, nil},
		{"small", []byte("v"), []byte("v"), nil},
		{"exactly first buffer", bytes.Repeat([]byte("y"), 1024), bytes.Repeat([]byte("y"), 1024), nil},
		{"grows on -needed", big, big, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := guesttest.New()
			if tt.stored != nil {
				h.Put([]byte("k"), tt.stored)
			}
			got, err := h.Context().State.Get([]byte("k"))
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Get err = %v, want %v", err, tt.wantErr)
			}
			if !bytes.Equal(got, tt.want) || (tt.want != nil) != (got != nil) {
				t.Fatalf("Get = %q (nil %v), want %q", got, got == nil, tt.want)
			}
		})
	}
}

func TestStateReadsOwnWritesAndLists(t *testing.T) {
	h := guesttest.New()
	h.Put([]byte("a/1"), []byte("one"))
	h.Put([]byte("b"), []byte("bee"))
	var long []string
	for i := range 300 { // > 1024 bytes of encoded keys: List must grow
		long = append(long, "c/"+strings.Repeat("k", 10)+string(rune('A'+i%26))+string(rune('a'+i/26)))
	}
	out, err := h.Call(func(ctx *guest.Context, _ []byte) ([]byte, error) {
		s := ctx.State
		if err := s.Put([]byte("a/2"), []byte("two")); err != nil {
			return nil, err
		}
		if err := s.Delete([]byte("b")); err != nil {
			return nil, err
		}
		for _, k := range long {
			if err := s.Put([]byte(k), nil); err != nil {
				return nil, err
			}
		}
		if ok, err := s.Exists([]byte("b")); ok || err != nil {
			t.Errorf("Exists(b) after Delete = %v, %v", ok, err)
		}
		if n, err := s.Len([]byte("a/2")); n != 3 || err != nil {
			t.Errorf("Len(a/2) = %d, %v", n, err)
		}
		if _, err := s.Len([]byte("b")); !errors.Is(err, guest.ErrNotFound) {
			t.Errorf("Len(b) err = %v", err)
		}
		keys, err := s.List([]byte("a/"))
		if err != nil {
			return nil, err
		}
		if d := cmp.Diff([][]byte{[]byte("a/1"), []byte("a/2")}, keys); d != "" {
			t.Errorf("List(a/) (-want +got):\n%s", d)
		}
		all, err := s.List(nil)
		if err != nil {
			return nil, err
		}
		if len(all) != 2+len(long) {
			t.Errorf("List(nil) = %d keys, want %d", len(all), 2+len(long))
		}
		return []byte("done"), nil
	}, nil)
	if err != nil || string(out) != "done" {
		t.Fatalf("Call = %q, %v", out, err)
	}
	if _, ok := h.Value([]byte("b")); ok {
		t.Error("delete not committed")
	}
	if v, _ := h.Value([]byte("a/2")); string(v) != "two" {
		t.Errorf("a/2 = %q after commit", v)
	}
}

func TestCallErrorDiscardsWrites(t *testing.T) {
	h := guesttest.New()
	boom := errors.New("boom")
	_, err := h.Call(func(ctx *guest.Context, _ []byte) ([]byte, error) {
		if err := ctx.State.Put([]byte("k"), []byte("v")); err != nil {
			return nil, err
		}
		return nil, boom
	}, nil)
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v", err)
	}
	if _, ok := h.Value([]byte("k")); ok {
		t.Fatal("write of a failed call was committed")
	}
}

// badHost returns a fixed code from every state read.
type badHost struct {
	guest.Host
	code int32
}

func (b badHost) StateGet(_, _ []byte) int32  { return b.code }
func (b badHost) StateList(_, _ []byte) int32 { return b.code }

func TestStateHostErrors(t *testing.T) {
	for _, code := range []int32{-3, -4, -5} {
		ctx := guest.NewContext(badHost{code: code})
		var he *guest.HostError
		if _, err := ctx.State.Get([]byte("k")); !errors.As(err, &he) || he.Code != int64(code) {
			t.Errorf("Get with host code %d: err = %v", code, err)
		}
		if _, err := ctx.State.List(nil); !errors.As(err, &he) || he.Code != int64(code) {
			t.Errorf("List with host code %d: err = %v", code, err)
		}
	}
	// A host that always asks for more than it was given never ends the loop.
	ctx := guest.NewContext(growingHost{})
	if _, err := ctx.State.Get([]byte("k")); err == nil {
		t.Error("Get with an ever-growing value: no error")
	}
}

type growingHost struct{ guest.Host }

func (growingHost) StateGet(_, out []byte) int32 { return -int32(len(out) + 1) }
