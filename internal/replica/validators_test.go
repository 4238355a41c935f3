package replica

import (
	"bytes"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/onvm-network/onvm/internal/consensus"
	"github.com/onvm-network/onvm/internal/dag/dagtest"
	"github.com/onvm-network/onvm/internal/id"
)

// TestValidatorSetOrderIndependent registers validators, one of them
// twice with different keys, in every order: the set is the same.
func TestValidatorSetOrderIndependent(t *testing.T) {
	vs := dagtest.Validators(t, 3)
	twice := vs[1].Validator
	twice.BLSKey, twice.Proof = vs[2].BLSKey, vs[2].Proof // node 1 with node 2's key pair
	regs := []consensus.Validator{vs[0].Validator, vs[1].Validator, twice}
	self := vs[2].Validator
	var want []consensus.Validator
	for _, order := range [][]int{{0, 1, 2}, {2, 1, 0}, {1, 2, 0}} {
		db, err := pebble.Open("", &pebble.Options{FS: vfs.NewMem()})
		if err != nil {
			t.Fatal(err)
		}
		s, err := OpenValidators(db, self, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, i := range order {
			if _, err := s.add(regs[i]); err != nil {
				t.Fatal(err)
			}
		}
		got := s.List()
		if len(got) != 3 {
			t.Fatalf("order %v: %d validators, want 3 (two registered, and this node)", order, len(got))
		}
		// Reloading from the store gives the same set.
		again, err := OpenValidators(db, self, 0)
		if err != nil {
			t.Fatal(err)
		}
		if !equal(got, again.List()) {
			t.Fatalf("order %v: reloaded set differs", order)
		}
		db.Close()
		if want == nil {
			want = got
			continue
		}
		if !equal(got, want) {
			t.Fatalf("order %v gives another set", order)
		}
	}
}

func equal(a, b []consensus.Validator) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Node != b[i].Node || !bytes.Equal(a[i].BLSKey[:], b[i].BLSKey[:]) {
			return false
		}
	}
	return true
}

// TestValidatorLiveness: a validator counts as live while its latest
// heartbeat is within the timeout (as the DAG's vertex timestamps say,
// kept across a reopen); this node is always live.
func TestValidatorLiveness(t *testing.T) {
	vs := dagtest.Validators(t, 2)
	self, other := vs[0].Validator, vs[1].Validator
	db, err := pebble.Open("", &pebble.Options{FS: vfs.NewMem()})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s, err := OpenValidators(db, self, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	now := time.UnixMilli(1_000_000_000)
	s.now = func() time.Time { return now }
	if _, err := s.add(other); err != nil {
		t.Fatal(err)
	}
	if got := s.Live(); len(got) != 1 || got[0].Node != self.Node {
		t.Fatalf("live before any heartbeat: %v, want this node alone", got)
	}
	if err := s.heardAt(other.Node, now.Add(-30*time.Second).UnixMilli()); err != nil {
		t.Fatal(err)
	}
	if got := s.Live(); len(got) != 2 {
		t.Fatalf("live 30 s after a heartbeat: %d validators, want 2", len(got))
	}
	// An older heartbeat delivered late changes nothing.
	if err := s.heardAt(other.Node, now.Add(-time.Hour).UnixMilli()); err != nil {
		t.Fatal(err)
	}
	now = now.Add(31 * time.Second)
	if got := s.Live(); len(got) != 1 || got[0].Node != self.Node {
		t.Fatalf("live 61 s after the heartbeat: %v, want this node alone", got)
	}
	again, err := OpenValidators(db, self, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	again.now = s.now
	if got := again.Live(); len(got) != 2 || len(again.List()) != 2 {
		t.Fatalf("reopened with a longer timeout: live %d, want 2", len(got))
	}
}

// TestValidatorAllowList restricts the set to an operator's list: a
// registered node outside it is never chosen, but may still forward.
func TestValidatorAllowList(t *testing.T) {
	vs := dagtest.Validators(t, 3)
	db, err := pebble.Open("", &pebble.Options{FS: vfs.NewMem()})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s, err := OpenValidators(db, vs[0].Validator, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range vs[1:] {
		if _, err := s.add(v.Validator); err != nil {
			t.Fatal(err)
		}
	}
	if got := len(s.List()); got != 3 {
		t.Fatalf("%d validators without a list, want 3", got)
	}
	s.Restrict([]id.Node{vs[0].Node, vs[2].Node})
	got := s.List()
	if len(got) != 2 || got[0].Node == vs[1].Node || got[1].Node == vs[1].Node {
		t.Fatalf("restricted set %v, want nodes 0 and 2", got)
	}
	if !s.has(vs[1].Node) {
		t.Fatal("a registered node outside the list may not forward")
	}
	s.Restrict([]id.Node{vs[1].Node}) // this node left out: it chooses among the listed only
	if got := s.List(); len(got) != 1 || got[0].Node != vs[1].Node {
		t.Fatalf("set %v, want node 1 alone", got)
	}
	s.Restrict(nil)
	if got := len(s.List()); got != 3 {
		t.Fatalf("%d validators after lifting the list, want 3", got)
	}
}
