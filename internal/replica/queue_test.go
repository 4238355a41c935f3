package replica

import "testing"

func TestWorkQueue(t *testing.T) {
	q := newWorkQueue[int](2)
	for _, tt := range []struct {
		x  int
		ok bool
	}{{1, true}, {1, true}, {2, true}, {3, false}} {
		if got := q.add(tt.x); got != tt.ok {
			t.Fatalf("add(%d) = %v, want %v", tt.x, got, tt.ok)
		}
	}
	if q.len() != 2 {
		t.Fatalf("len %d, want 2 (duplicates are merged)", q.len())
	}
	select {
	case <-q.ready:
	default:
		t.Fatal("no ready token with items queued")
	}
	for _, want := range []int{1, 2} {
		if x, ok := q.take(); !ok || x != want {
			t.Fatalf("take = %d, %v; want %d", x, ok, want)
		}
	}
	if _, ok := q.take(); ok {
		t.Fatal("take from an empty queue")
	}
	if !q.add(1) {
		t.Fatal("a taken item cannot be queued again")
	}
}
