package chain

import (
	"errors"
	"testing"

	"github.com/onvm-network/onvm/internal/bls"
	"github.com/onvm-network/onvm/internal/consensus"
	"github.com/onvm-network/onvm/internal/id"
	"github.com/onvm-network/onvm/internal/identity"
	"github.com/onvm-network/onvm/internal/state"
	"github.com/onvm-network/onvm/internal/wasm"
)

func validatorOf(k *identity.Keys) consensus.Validator {
	return consensus.Validator{Node: k.Node(), BLSKey: k.BLS.PublicKey(), Proof: k.BLS.Prove()}
}

// TestCommitteeOfThree: with three registered validators a program gets a
// three-member committee (threshold 3); this node alone cannot finalize an
// execution, but transitions finalized by the committee apply, and an
// aggregate of too few members does not.
func TestCommitteeOfThree(t *testing.T) {
	keys := []*identity.Keys{testKeys(t, 1), testKeys(t, 5), testKeys(t, 6)}
	forged := validatorOf(testKeys(t, 7))
	forged.Proof = keys[0].BLS.Prove() // a proof for another key: skipped
	vs := []consensus.Validator{validatorOf(keys[0]), validatorOf(keys[1]), validatorOf(keys[2]), forged}
	e := newEnv(t, 1, func(o *Options) { o.Validators = func() []consensus.Validator { return vs } })
	p := e.deploy(t, sample(t, "kvstore"), "onvm_main", "k")
	c := e.committee(t, p)
	if len(c.Members) != 3 || c.Threshold != 3 || c.Index(forged.Node) >= 0 {
		t.Fatalf("committee %+v", c)
	}
	agg, err := AggregatePublicKey(c)
	if err != nil || agg == c.Members[0].BLSKey {
		t.Fatalf("aggregate key: %v", err)
	}

	if _, err := e.engine.Execute(t.Context(), Request{Program: p, Input: []byte(`{"op":"list"}`)}); !errors.Is(err, ErrNotInCommittee) {
		t.Fatalf("execute without peers' votes: %v", err)
	}

	// A transition the committee finalized elsewhere.
	m, _ := e.engine.Manifest(p)
	writes := []state.Write{{Key: []byte("a"), Value: []byte("1")}}
	root, err := e.state.RootWith(p, writes)
	if err != nil {
		t.Fatal(err)
	}
	r := consensus.Receipt{
		Program: p, Height: 1, StateRootIn: state.EmptyRoot, StateRootOut: root, WriteDigest: state.WriteDigest(writes),
		CodeHash: m.Body.Instrumented.Hash(), EnvHash: wasm.EnvHash(), Timestamp: 1, Executor: keys[1].Node(),
	}
	bal := consensus.Ballot{Program: p, Height: 1, Step: consensus.StepPrecommit, Value: consensus.BatchRoot([]id.Hash{r.ID()})}
	var votes []consensus.SignedBallot
	for _, k := range keys {
		votes = append(votes, consensus.SignBallot(k.BLS, uint32(c.Index(k.Node())), bal))
	}
	// Two of three: below the threshold.
	two := consensus.CertifiedBatch([]consensus.Receipt{r}, &consensus.Certificate{Ballot: bal, Signers: make([]byte, 1)})[0]
	var sigs []bls.Signature
	for i := range 2 {
		two.Certificate.Signers[0] |= 1 << votes[i].Member
		sigs = append(sigs, votes[i].Signature)
	}
	if two.Certificate.Signature, err = bls.Aggregate(sigs); err != nil {
		t.Fatal(err)
	}
	if _, err := e.engine.ApplyFinalized(t.Context(), &Transition{Receipt: two, Writes: writes}); !errors.Is(err, ErrInvalidTransition) || !errors.Is(err, consensus.ErrNoQuorum) {
		t.Fatalf("two of three signers: %v", err)
	}
	q, err := consensus.Certify(c, bal, votes)
	if err != nil {
		t.Fatal(err)
	}
	all := &consensus.CertifiedBatch([]consensus.Receipt{r}, q)[0]
	st, err := e.engine.ApplyFinalized(t.Context(), &Transition{Receipt: *all, Writes: writes})
	if err != nil || st.Head.Height != 1 || st.Head.Root != root {
		t.Fatalf("apply: %+v %v", st, err)
	}
	if v, ok, _ := e.state.Get(p, []byte("a")); !ok || string(v) != "1" {
		t.Fatal("write not applied")
	}
}
