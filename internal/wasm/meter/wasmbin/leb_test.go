package wasmbin

import (
	"errors"
	"math"
	"testing"
)

func TestLEB(t *testing.T) {
	for _, v := range []uint32{0, 1, 63, 64, 127, 128, 255, 16383, 16384, math.MaxUint32} {
		r := NewReader(AppendU32(nil, v))
		if got, err := r.U32(); err != nil || got != v || r.Len() != 0 {
			t.Errorf("u32 %d: got %d, %v", v, got, err)
		}
	}
	for _, v := range []int64{0, 1, -1, 63, -64, 64, -65, math.MaxInt32, math.MinInt32, math.MaxInt64, math.MinInt64} {
		r := NewReader(AppendS64(nil, v))
		if got, err := r.S64(); err != nil || got != v || r.Len() != 0 {
			t.Errorf("s64 %d: got %d, %v", v, got, err)
		}
		if v >= math.MinInt32 && v <= math.MaxInt32 {
			r := NewReader(AppendS64(nil, v))
			if got, err := r.S32(); err != nil || int64(got) != v {
				t.Errorf("s32 %d: got %d, %v", v, got, err)
			}
		}
	}
	// wazero ignores bit 6 of the last byte; so do we.
	if v, err := NewReader([]byte{0xd6, 0xd6, 0xd6, 0xd6, 0x38}).S32(); err != nil || v != -1965708458 {
		t.Errorf("lenient s32: %d, %v", v, err)
	}
	if v, err := NewReader([]byte{0xff, 0xff, 0xff, 0xff, 0x3f}).S33(); err != nil || v != -1 {
		t.Errorf("s33 -1: %d, %v", v, err)
	}
	if v, err := NewReader([]byte{0xff, 0xff, 0xff, 0xff, 0x0f}).S33(); err != nil || v != 1<<32-1 {
		t.Errorf("s33 2^32-1: %d, %v", v, err)
	}
	bad := []struct {
		name string
		b    []byte
		read func(*Reader) error
	}{
		{"u32 overflow", []byte{0xff, 0xff, 0xff, 0xff, 0x1f}, func(r *Reader) error { _, err := r.U32(); return err }},
		{"u32 too long", []byte{0x80, 0x80, 0x80, 0x80, 0x80, 0x00}, func(r *Reader) error { _, err := r.U32(); return err }},
		{"u32 truncated", []byte{0x80}, func(r *Reader) error { _, err := r.U32(); return err }},
		{"s32 overflow", []byte{0xff, 0xff, 0xff, 0xff, 0x4f}, func(r *Reader) error { _, err := r.S32(); return err }},
		{"s32 bad sign bits", []byte{0x80, 0x80, 0x80, 0x80, 0x60}, func(r *Reader) error { _, err := r.S32(); return err }},
		{"s33 bad sign bits", []byte{0x80, 0x80, 0x80, 0x80, 0x20}, func(r *Reader) error { _, err := r.S33(); return err }},
		{"s64 overflow", []byte{0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x02}, func(r *Reader) error { _, err := r.S64(); return err }},
		{"count beyond input", []byte{0x10, 0x00}, func(r *Reader) error { _, err := r.Count(1); return err }},
		{"bytes beyond input", []byte{0x00}, func(r *Reader) error { _, err := r.Bytes(2); return err }},
	}
	for _, tt := range bad {
		if err := tt.read(NewReader(tt.b)); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: err %v, want ErrMalformed", tt.name, err)
		}
	}
}
