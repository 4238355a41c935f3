package replica

import (
	"crypto/ed25519"
	"slices"
	"testing"

	"github.com/onvm-network/onvm/internal/dag"
	"github.com/onvm-network/onvm/internal/dag/dagtest"
	"github.com/onvm-network/onvm/internal/dag/op"
	"github.com/onvm-network/onvm/internal/id"
)

// TestBlobMetadataOrderIndependent: announcements of one blob with
// different media types (two clients uploading the same bytes) give every
// node the same metadata whatever order they arrive in — the lowest
// publisher's, the least of its announcements. The first one to arrive
// used to stand, so nodes reported different types for good.
func TestBlobMetadataOrderIndependent(t *testing.T) {
	b := id.BlobOf([]byte("same bytes"))
	type ann struct {
		key  ed25519.PrivateKey
		seq  uint64
		mime string
	}
	keys := []ed25519.PrivateKey{dagtest.Key(1), dagtest.Key(2), dagtest.Key(3)}
	anns := []ann{{keys[0], 1, "text/plain"}, {keys[1], 1, "application/octet-stream"}, {keys[2], 1, "image/png"}, {keys[0], 2, "application/json"}}
	vertices := make([]*dag.Vertex, len(anns))
	for i, a := range anns {
		o, err := op.BlobPublished{Blob: b, Size: 10, Mime: a.mime, Publisher: dagtest.Node(a.key)}.Op()
		if err != nil {
			t.Fatal(err)
		}
		var parents []id.Hash
		if a.seq == 2 {
			parents = []id.Hash{vertices[0].ID()}
		}
		vertices[i] = dagtest.Sign(t, a.key, a.seq, parents, o)
	}
	var want *blobMeta
	for i, order := range [][]int{{0, 1, 2, 3}, {3, 2, 1, 0}, {1, 2, 0, 3}, {2, 0, 3, 1}} {
		n := newBareNode(t, 0, nil, nil)
		for _, j := range order { // a vertex before its parent waits for it
			if _, err := n.d.Add(t.Context(), "peer", vertices[j]); err != nil {
				t.Fatal(err)
			}
		}
		got, ok, err := n.r.blobMetaOf(b)
		if err != nil || !ok {
			t.Fatalf("order %v: no metadata (%v)", order, err)
		}
		if len(got.Publishers) != 3 {
			t.Fatalf("order %v: %d publishers, want 3", order, len(got.Publishers))
		}
		if i == 0 {
			want = got
			lowest := slices.MinFunc(keys, func(x, y ed25519.PrivateKey) int { return cmpNode(dagtest.Node(x), dagtest.Node(y)) })
			for _, a := range anns {
				if a.key.Equal(lowest) && a.mime < want.Mime {
					t.Fatalf("type %q stands, but the lowest publisher also announced %q", want.Mime, a.mime)
				}
			}
			continue
		}
		if got.Mime != want.Mime || got.Size != want.Size {
			t.Fatalf("order %v gives %d bytes of %q, causal order %d bytes of %q", order, got.Size, got.Mime, want.Size, want.Mime)
		}
	}
}
