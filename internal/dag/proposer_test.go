package dag

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

type fakeDAG struct {
	mu      sync.Mutex
	batches []int
	at      []time.Duration
	start   time.Time
}

func (f *fakeDAG) propose(_ context.Context, ops []Op) (*Vertex, []error, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.batches = append(f.batches, len(ops))
	f.at = append(f.at, time.Since(f.start))
	return &Vertex{Ops: ops}, nil, nil
}

func (f *fakeDAG) get() ([]int, []time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]int(nil), f.batches...), append([]time.Duration(nil), f.at...)
}

func TestProposerSlots(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakeDAG{start: time.Now()}
		var announced int
		p := newProposer(f.propose, func(Op) error { return nil }, ProposerConfig{
			Announce: func(context.Context, *Vertex) { announced++ },
		})
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error)
		go func() { done <- p.Run(ctx) }()
		op := Op{Kind: 1, Body: []byte("x")}

		// Nothing queued: no vertex however long we wait.
		time.Sleep(2 * time.Second)
		synctest.Wait()
		if b, _ := f.get(); len(b) != 0 {
			t.Fatalf("empty slots emitted %v", b)
		}
		// Three operations within one slot: one vertex at the slot's end.
		for range 3 {
			if err := p.Submit(op); err != nil {
				t.Fatal(err)
			}
		}
		time.Sleep(DefaultSlot)
		synctest.Wait()
		if b, _ := f.get(); fmt.Sprint(b) != "[3]" {
			t.Fatalf("batches %v, want [3]", b)
		}
		// A full vertex's worth goes out at once, without waiting for the slot.
		before := time.Now()
		for range MaxOps + 10 {
			if err := p.Submit(op); err != nil {
				t.Fatal(err)
			}
		}
		synctest.Wait()
		b, at := f.get()
		if fmt.Sprint(b[:2]) != fmt.Sprint([]int{3, MaxOps}) || time.Since(before) != 0 {
			t.Fatalf("batches %v at %v", b, at)
		}
		time.Sleep(DefaultSlot)
		synctest.Wait()
		if b, _ := f.get(); fmt.Sprint(b) != fmt.Sprint([]int{3, MaxOps, 10}) {
			t.Fatalf("batches %v", b)
		}
		// On shutdown the queue is flushed.
		if err := p.Submit(op); err != nil {
			t.Fatal(err)
		}
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Fatal(err)
		}
		if b, _ := f.get(); len(b) != 4 || announced != 4 {
			t.Fatalf("batches %v, announced %d", b, announced)
		}
	})
}

func TestProposerQueueBounded(t *testing.T) {
	p := newProposer(func(context.Context, []Op) (*Vertex, []error, error) { return nil, nil, nil },
		func(Op) error { return nil }, ProposerConfig{MaxQueue: 2})
	op := Op{Kind: 1, Body: []byte("x")}
	for range 2 {
		if err := p.Submit(op); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Submit(op); !errors.Is(err, ErrQueueFull) {
		t.Fatalf("Submit to a full queue = %v", err)
	}
	if err := p.Submit(Op{Kind: 1, Body: make([]byte, MaxOpSize+1)}); !errors.Is(err, ErrInvalidOp) {
		t.Fatalf("oversize op = %v", err)
	}
}

// TestProposerSplitsBySize packs large operations into vertices that fit.
func TestProposerSplitsBySize(t *testing.T) {
	f := &fakeDAG{start: time.Now()}
	p := newProposer(f.propose, func(Op) error { return nil }, ProposerConfig{})
	for range 5 {
		if err := p.Submit(Op{Kind: 1, Body: make([]byte, MaxOpSize)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	if b, _ := f.get(); fmt.Sprint(b) != "[1 1 1 1 1]" {
		t.Fatalf("batches %v: a vertex would exceed MaxVertexSize", b)
	}
}
