package blake3

import (
	"encoding/hex"
	"encoding/json"
	"os"
	"testing"

	zeebo "github.com/zeebo/blake3"
)

func TestOfficialVectors(t *testing.T) {
	raw, err := os.ReadFile("../../../testdata/blake3_test_vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		Cases []struct {
			InputLen int    `json:"input_len"`
			Hash     string `json:"hash"`
		} `json:"cases"`
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	if len(v.Cases) == 0 {
		t.Fatal("no vectors")
	}
	for _, c := range v.Cases {
		in := make([]byte, c.InputLen)
		for i := range in {
			in[i] = byte(i % 251)
		}
		if got := Hex(in); got != c.Hash[:64] {
			t.Errorf("len %d: got %s, want %s", c.InputLen, got, c.Hash[:64])
		}
	}
}

func FuzzMatchesZeebo(f *testing.F) {
	f.Add([]byte("abc"))
	f.Add(make([]byte, 5000))
	f.Fuzz(func(t *testing.T, b []byte) {
		want := zeebo.Sum256(b)
		if got := Sum256(b); got != want {
			t.Fatalf("len %d: got %s, want %s", len(b), hex.EncodeToString(got[:]), hex.EncodeToString(want[:]))
		}
	})
}

func BenchmarkSum256(b *testing.B) {
	in := make([]byte, 64<<10)
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		Sum256(in)
	}
}
