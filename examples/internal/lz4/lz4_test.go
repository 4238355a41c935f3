package lz4

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"testing"

	pierrec "github.com/pierrec/lz4/v4"
)

// decompress decodes a size-prefixed block with an independent decoder and
// checks the end-of-block rules the reference decoder (and lz4_flex)
// relies on.
func decompress(t testing.TB, b []byte) []byte {
	t.Helper()
	if len(b) < 4 {
		t.Fatalf("no size prefix: %x", b)
	}
	n := binary.LittleEndian.Uint32(b)
	out := make([]byte, n)
	got, err := pierrec.UncompressBlock(b[4:], out)
	if err != nil || got != int(n) {
		t.Fatalf("UncompressBlock = %d, %v; want %d bytes", got, err, n)
	}
	return out
}

func TestCompressPrependSize(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		// Worked by hand from lz4_flex's algorithm: 26 literals, a 5-byte
		// match at offset 26, then the last 10 bytes as literals.
		{"analytics sample", "Rust WASM analytics test. Rust Rust WASM!",
			"29000000" + "f10b" + hex.EncodeToString([]byte("Rust WASM analytics test. ")) + "1a00" + "a0" + hex.EncodeToString([]byte("Rust WASM!"))},
		{"empty", "", "0000000000"},
		{"short", "abc", "03000000" + "30616263"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := CompressPrependSize([]byte(tt.in))
			if hex.EncodeToString(got) != tt.want {
				t.Errorf("got  %x\nwant %s", got, tt.want)
			}
			if d := decompress(t, got); string(d) != tt.in {
				t.Errorf("round trip = %q", d)
			}
		})
	}
}

func TestLongInputs(t *testing.T) {
	inputs := map[string][]byte{
		"zeros 1 MiB": make([]byte, 1<<20),
		"repeat":      bytes.Repeat([]byte("the quick brown fox "), 5000),
		"incompressible": func() []byte {
			b := make([]byte, 100000)
			x := uint32(1)
			for i := range b {
				x ^= x << 13
				x ^= x >> 17
				x ^= x << 5
				b[i] = byte(x)
			}
			return b
		}(),
	}
	for name, in := range inputs {
		t.Run(name, func(t *testing.T) {
			if d := decompress(t, CompressPrependSize(in)); !bytes.Equal(d, in) {
				t.Fatal("round trip differs")
			}
		})
	}
}

func FuzzRoundTrip(f *testing.F) {
	f.Add([]byte("Rust WASM analytics test. Rust Rust WASM!"))
	f.Add(bytes.Repeat([]byte{7}, 300))
	f.Fuzz(func(t *testing.T, in []byte) {
		if d := decompress(t, CompressPrependSize(in)); !bytes.Equal(d, in) {
			t.Fatalf("round trip differs for %x", in)
		}
	})
}

func BenchmarkCompress(b *testing.B) {
	in := bytes.Repeat([]byte("Rust WASM analytics test. Rust Rust WASM! "), 1000)
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		CompressPrependSize(in)
	}
}
