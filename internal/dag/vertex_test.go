package dag_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/onvm-network/onvm/internal/codec"
	"github.com/onvm-network/onvm/internal/dag"
	"github.com/onvm-network/onvm/internal/dag/dagtest"
	"github.com/onvm-network/onvm/internal/id"
)

func TestVertexRoundTrip(t *testing.T) {
	key := dagtest.Key(1)
	v := dagtest.Sign(t, key, 2, []id.Hash{{1}, {2}, {3}}, dagtest.Op([]byte("a")), dagtest.Op([]byte("b")))
	got, err := dag.Decode(v.Raw())
	if err != nil {
		t.Fatal(err)
	}
	if got.ID() != v.ID() || got.ID() != id.Sum(v.Raw()) {
		t.Fatalf("id %s, want %s", got.ID(), v.ID())
	}
	if !bytes.Equal(codec.MustMarshal(got), v.Raw()) {
		t.Fatal("re-encoding differs")
	}
}

func TestVertexRejects(t *testing.T) {
	key := dagtest.Key(1)
	op := dagtest.Op([]byte("x"))
	many := make([]dag.Op, dag.MaxOps+1)
	for i := range many {
		many[i] = op
	}
	parents := func(n int) []id.Hash {
		ps := make([]id.Hash, n)
		for i := range ps {
			ps[i] = id.Hash{byte(i >> 8), byte(i), 1}
		}
		return ps
	}
	tests := []struct {
		name string
		v    dag.Vertex
	}{
		{"seq 0", dag.Vertex{Seq: 0, Ops: []dag.Op{op}, Timestamp: 1}},
		{"no timestamp", dag.Vertex{Seq: 1, Ops: []dag.Op{op}}},
		{"no ops", dag.Vertex{Seq: 1, Timestamp: 1}},
		{"too many ops", dag.Vertex{Seq: 1, Ops: many, Timestamp: 1}},
		{"empty op body", dag.Vertex{Seq: 1, Ops: []dag.Op{{Kind: 1}}, Timestamp: 1}},
		{"too many parents", dag.Vertex{Seq: 2, Parents: parents(dag.MaxParents + 1), Ops: []dag.Op{op}, Timestamp: 1}},
		{"seq 2 without parent", dag.Vertex{Seq: 2, Ops: []dag.Op{op}, Timestamp: 1}},
		{"empty non-null parents", dag.Vertex{Seq: 1, Parents: []id.Hash{}, Ops: []dag.Op{op}, Timestamp: 1}},
		{"zero parent", dag.Vertex{Seq: 1, Parents: []id.Hash{{}}, Ops: []dag.Op{op}, Timestamp: 1}},
		{"unsorted parents", dag.Vertex{Seq: 1, Parents: []id.Hash{{2}, {1}}, Ops: []dag.Op{op}, Timestamp: 1}},
		{"duplicate parents", dag.Vertex{Seq: 1, Parents: []id.Hash{{1}, {1}}, Ops: []dag.Op{op}, Timestamp: 1}},
		{"self parent repeated", dag.Vertex{Seq: 2, Parents: []id.Hash{{1}, {1}}, Ops: []dag.Op{op}, Timestamp: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := tt.v
			v.Author = dagtest.Node(key)
			if err := v.Sign(key); err != nil {
				if errors.Is(err, dag.ErrInvalidVertex) {
					return
				}
				t.Fatal(err)
			}
			if _, err := dag.Decode(v.Raw()); !errors.Is(err, dag.ErrInvalidVertex) {
				t.Fatalf("Decode = %v, want ErrInvalidVertex", err)
			}
		})
	}
}

func TestVertexTamper(t *testing.T) {
	key := dagtest.Key(1)
	v := dagtest.Sign(t, key, 1, nil, dagtest.Op([]byte("hello")))
	for i := range v.Raw() {
		b := bytes.Clone(v.Raw())
		b[i] ^= 0x01
		if _, err := dag.Decode(b); err == nil {
			t.Fatalf("flipping byte %d still decodes and verifies", i)
		}
	}
	// Signed by someone else.
	other := &dag.Vertex{Author: dagtest.Node(dagtest.Key(2)), Seq: 1, Ops: v.Ops, Timestamp: 5}
	if err := other.Sign(key); !errors.Is(err, dag.ErrInvalidVertex) {
		t.Fatalf("Sign with a foreign key = %v", err)
	}
	huge := make([]byte, dag.MaxVertexSize+1)
	if _, err := dag.Decode(huge); !errors.Is(err, dag.ErrInvalidVertex) {
		t.Fatalf("oversize Decode = %v", err)
	}
}

// FuzzDecodeVertex checks that Decode never panics on untrusted bytes and
// that whatever it accepts is canonical (no second encoding of a vertex
// shares its content) and verifies.
func FuzzDecodeVertex(f *testing.F) {
	key := dagtest.Key(1)
	f.Add(dagtest.Sign(f, key, 1, nil, dagtest.Op([]byte("a"))).Raw())
	f.Add(dagtest.Sign(f, key, 3, []id.Hash{{9}, {1}, {2}}, dagtest.Op([]byte("a")), dagtest.Op([]byte("bb"))).Raw())
	f.Add([]byte{0xa0})
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := dag.Decode(b)
		if err != nil {
			return
		}
		if !bytes.Equal(codec.MustMarshal(v), b) {
			t.Fatal("accepted a non-canonical encoding")
		}
		if err := v.Verify(); err != nil {
			t.Fatalf("accepted vertex does not verify: %v", err)
		}
	})
}
