package replica

import (
	"bytes"
	"testing"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/onvm-network/onvm/internal/consensus"
	"github.com/onvm-network/onvm/internal/dag/dagtest"
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
		s, err := OpenValidators(db, self)
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
		again, err := OpenValidators(db, self)
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
