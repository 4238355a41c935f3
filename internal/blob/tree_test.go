package blob

import (
	"bytes"
	"testing"

	"lukechampine.com/blake3/bao"

	"github.com/onvm-network/onvm/internal/id"
)

func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i % 251)
	}
	return b
}

// TestEncodeOutboardMatchesBao checks the hand-written tree against an
// independent implementation: lukechampine's bao at the same group size, and
// the plain BLAKE3 hash.
func TestEncodeOutboardMatchesBao(t *testing.T) {
	sizes := []int{0, 1, 1023, 1024, 1025, batchSize - 1, batchSize, batchSize + 1,
		GroupSize - 1, GroupSize, GroupSize + 1, 2*GroupSize - 1, 2 * GroupSize, 2*GroupSize + 1,
		3*GroupSize + 5, 4 * GroupSize, 5*GroupSize + 1, 13*GroupSize + 12345}
	for _, n := range sizes {
		data := pattern(n)
		got, ob := EncodeOutboard(data)
		if want := id.BlobOf(data); got != want {
			t.Fatalf("size %d: id %s, want %s", n, got, want)
		}
		wantOb, root := bao.EncodeBuf(data, groupLog, true)
		if id.Blob(root) != got {
			t.Fatalf("size %d: bao root differs", n)
		}
		if !bytes.Equal(ob, wantOb) {
			t.Fatalf("size %d: outboard differs from bao (%d vs %d bytes)", n, len(ob), len(wantOb))
		}
		if err := VerifyOutboard(got, int64(n), ob); err != nil {
			t.Fatalf("size %d: %v", n, err)
		}
		for g := range Groups(int64(n)) {
			lo := g * GroupSize
			hi := lo + int64(groupLen(int64(n), g))
			if err := VerifyGroup(got, int64(n), ob, int(g), data[lo:hi]); err != nil {
				t.Fatalf("size %d group %d: %v", n, g, err)
			}
		}
	}
}
