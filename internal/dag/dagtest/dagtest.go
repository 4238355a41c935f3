// Package dagtest provides helpers for tests of the DAG and of the layers
// that move vertices: in-memory databases, deterministic keys, and a
// recording Handler that checks causal, exactly-once application. It is for
// tests only and must not be imported by production code.
package dagtest

import (
	"context"
	"crypto/ed25519"
	"encoding/binary"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/onvm-network/onvm/internal/dag"
	"github.com/onvm-network/onvm/internal/id"
)

// KindTest is the synthetic operation kind the helpers register.
const KindTest dag.Kind = 100

// DB returns an in-memory pebble database closed at cleanup.
func DB(t testing.TB) *pebble.DB {
	t.Helper()
	db, err := pebble.Open("db", &pebble.Options{FS: vfs.NewMem(), Logger: quiet{}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

type quiet struct{}

func (quiet) Infof(string, ...any)  {}
func (quiet) Errorf(string, ...any) {}
func (quiet) Fatalf(format string, args ...any) {
	panic(fmt.Sprintf(format, args...))
}

// Key returns the deterministic Ed25519 key number i.
func Key(i int) ed25519.PrivateKey {
	seed := make([]byte, ed25519.SeedSize)
	binary.BigEndian.PutUint64(seed, uint64(i)+1)
	seed[31] = 0x5a
	return ed25519.NewKeyFromSeed(seed)
}

// Node returns the node id of key.
func Node(key ed25519.PrivateKey) id.Node { return id.Node(key.Public().(ed25519.PublicKey)) }

// Op returns a synthetic operation with body b.
func Op(b []byte) dag.Op { return dag.Op{Kind: KindTest, Body: b} }

// Recorder is a Handler for KindTest that records every applied operation
// and checks that each vertex is applied after its parents and each
// operation at most once. Reject, when set, makes Apply refuse (with
// dag.ErrInvalidOp) bodies for which it returns an error; refused
// operations are not recorded as applied.
type Recorder struct {
	Reject func(body []byte) error
	// OnApply, when set, is called after each application (outside locks).
	OnApply func(op dag.Op, v *dag.Vertex)

	mu       sync.Mutex
	order    []id.Hash         // op digests in application order
	count    map[id.Hash]int   // op digest → applications
	vertices map[id.Hash]bool  // vertices with at least one applied op
	errs     []error           // causal-order or duplicate violations
	byVertex map[id.Hash][]int // vertex → op indexes applied
}

// NewRecorder returns an empty recorder.
func NewRecorder() *Recorder {
	return &Recorder{count: map[id.Hash]int{}, vertices: map[id.Hash]bool{}, byVertex: map[id.Hash][]int{}}
}

// Apply implements dag.Handler.
func (r *Recorder) Apply(_ context.Context, op dag.Op, v *dag.Vertex) error {
	if r.Reject != nil {
		if err := r.Reject(op.Body); err != nil {
			return r.refuse(v, err)
		}
	}
	return r.record(op, v)
}

// refuse notes that v was applied although one of its operations was
// refused, and returns the refusal.
func (r *Recorder) refuse(v *dag.Vertex, err error) error {
	r.mu.Lock()
	r.vertices[v.ID()] = true
	r.mu.Unlock()
	return fmt.Errorf("%w: %w", dag.ErrInvalidOp, err)
}

// record notes op of v as applied.
func (r *Recorder) record(op dag.Op, v *dag.Vertex) error {
	d := id.Sum(op.Body)
	r.mu.Lock()
	for _, p := range v.Parents {
		if !r.vertices[p] {
			r.errs = append(r.errs, fmt.Errorf("vertex %s applied before its parent %s", v.ID(), p))
		}
	}
	r.count[d]++
	if r.count[d] > 1 {
		r.errs = append(r.errs, fmt.Errorf("operation %s applied %d times", d, r.count[d]))
	}
	r.order = append(r.order, d)
	r.vertices[v.ID()] = true
	r.mu.Unlock()
	if r.OnApply != nil {
		r.OnApply(op, v)
	}
	return nil
}

// Applied returns the digests of applied operations, sorted.
func (r *Recorder) Applied() []id.Hash {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]id.Hash, 0, len(r.count))
	for d := range r.count {
		out = append(out, d)
	}
	slices.SortFunc(out, func(a, b id.Hash) int { return slices.Compare(a[:], b[:]) })
	return out
}

// Len returns how many distinct operations were applied.
func (r *Recorder) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.count)
}

// Errors returns the violations seen.
func (r *Recorder) Errors() []error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]error(nil), r.errs...)
}

// Registry returns a registry with KindTest handled by h (which may be nil).
func Registry(h dag.Handler) *dag.Registry {
	reg := dag.NewRegistry()
	if err := reg.Define(KindTest, "test", nil); err != nil {
		panic(err)
	}
	if h != nil {
		if err := reg.Handle(KindTest, h); err != nil {
			panic(err)
		}
	}
	return reg
}

// Open opens a DAG on a fresh in-memory database with key and handler h
// for KindTest.
func Open(t testing.TB, key ed25519.PrivateKey, h dag.Handler) *dag.DAG {
	t.Helper()
	d, err := dag.Open(context.Background(), dag.Config{DB: DB(t), Registry: Registry(h), Key: key})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// Sign builds and signs a vertex; it fails the test on error.
func Sign(t testing.TB, key ed25519.PrivateKey, seq uint64, parents []id.Hash, ops ...dag.Op) *dag.Vertex {
	t.Helper()
	v := &dag.Vertex{Author: Node(key), Seq: seq, Parents: parents, Ops: ops, Timestamp: int64(1000 + seq)}
	if err := v.Sign(key); err != nil {
		t.Fatal(err)
	}
	return v
}
