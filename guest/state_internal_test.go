package guest

import (
	"encoding/binary"
	"testing"
)

func encodeKeys(keys [][]byte) []byte {
	var b []byte
	for _, k := range keys {
		b = binary.LittleEndian.AppendUint32(b, uint32(len(k)))
		b = append(b, k...)
	}
	return b
}

func TestDecodeKeys(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want int // number of keys, -1 for an error
	}{
		{"empty", nil, 0},
		{"one", encodeKeys([][]byte{[]byte("a")}), 1},
		{"empty key", encodeKeys([][]byte{{}, []byte("b")}), 2},
		{"short header", []byte{1, 0, 0}, -1},
		{"short key", []byte{2, 0, 0, 0, 'a'}, -1},
		{"huge length", []byte{0xff, 0xff, 0xff, 0xff}, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			keys, err := decodeKeys(tt.in)
			if tt.want < 0 {
				if err == nil {
					t.Fatalf("decodeKeys(%x) = %q, want error", tt.in, keys)
				}
				return
			}
			if err != nil || len(keys) != tt.want {
				t.Fatalf("decodeKeys(%x) = %q, %v; want %d keys", tt.in, keys, err, tt.want)
			}
		})
	}
}

// FuzzDecodeKeys checks that host output never panics the decoder and that
// whatever decodes re-encodes to the same bytes.
func FuzzDecodeKeys(f *testing.F) {
	f.Add(encodeKeys([][]byte{[]byte("alpha"), []byte("beta")}))
	f.Add([]byte{1, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		keys, err := decodeKeys(b)
		if err != nil {
			return
		}
		if got := encodeKeys(keys); string(got) != string(b) {
			t.Fatalf("re-encoded %x, want %x", got, b)
		}
	})
}
