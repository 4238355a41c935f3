package consensus

import (
	"bytes"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/onvm-network/onvm/internal/bls"
	"github.com/onvm-network/onvm/internal/codec"
	"github.com/onvm-network/onvm/internal/id"
)

type signer struct {
	node id.Node
	sk   *bls.SecretKey
}

func signers(t testing.TB, n int) []signer {
	t.Helper()
	out := make([]signer, n)
	for i := range out {
		sk, err := bls.GenerateKey(bytes.NewReader(bytes.Repeat([]byte{byte(i + 7)}, 32)))
		if err != nil {
			t.Fatal(err)
		}
		out[i] = signer{node: id.Node{byte(i + 1)}, sk: sk}
	}
	return out
}

func validators(ss []signer) []Validator {
	var vs []Validator
	for _, s := range ss {
		vs = append(vs, Validator{Node: s.node, BLSKey: s.sk.PublicKey(), Proof: s.sk.Prove()})
	}
	return vs
}

func sampleReceipt(p id.Program) Receipt {
	return Receipt{
		Program: p, Height: 3, StateRootIn: id.Sum([]byte("in")), StateRootOut: id.Sum([]byte("out")),
		InputHash: id.Sum([]byte("input")), FuelUsed: 1234, WriteDigest: id.Sum([]byte("w")),
		OutputHash: id.Sum([]byte("o")), CodeHash: id.Sum([]byte("c")), EnvHash: id.Sum([]byte("e")),
		Timestamp: 1700000000000, Executor: id.Node{1},
	}
}

func TestSelectCommitteeDeterministic(t *testing.T) {
	ss := signers(t, 7)
	vs := validators(ss)
	p := id.ProgramOf([]byte("code"), nil)
	c1, err := SelectCommittee(p, vs, 4)
	if err != nil {
		t.Fatal(err)
	}
	// Order of the validator list must not matter.
	rev := append([]Validator(nil), vs...)
	for i, j := 0, len(rev)-1; i < j; i, j = i+1, j-1 {
		rev[i], rev[j] = rev[j], rev[i]
	}
	c2, _ := SelectCommittee(p, rev, 4)
	if diff := cmp.Diff(c1, c2); diff != "" {
		t.Fatalf("committee depends on validator order:\n%s", diff)
	}
	if len(c1.Members) != 4 || c1.Threshold != 3 {
		t.Fatalf("got %d members threshold %d, want 4 and 3", len(c1.Members), c1.Threshold)
	}
	other, _ := SelectCommittee(id.ProgramOf([]byte("other"), nil), vs, 4)
	if cmp.Equal(c1.Members, other.Members) {
		t.Log("two programs drew the same committee (possible, but unlikely)")
	}
	one, _ := SelectCommittee(p, vs[:1], 0)
	if len(one.Members) != 1 || one.Threshold != 1 {
		t.Fatalf("single validator: %+v", one)
	}
}

func TestCommitteeValidate(t *testing.T) {
	ss := signers(t, 3)
	p := id.ProgramOf([]byte("x"), nil)
	c, _ := SelectCommittee(p, validators(ss), 3)
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	bad := c
	bad.Threshold = 2 // 2 of 3 is not more than two thirds
	if err := bad.Validate(); !errors.Is(err, ErrInvalidCommittee) {
		t.Fatalf("threshold 2/3 accepted: %v", err)
	}
	bad = c
	bad.Members = append([]Member(nil), c.Members...)
	bad.Members[1].Node = bad.Members[0].Node
	if err := bad.Validate(); err == nil {
		t.Fatal("duplicate node accepted")
	}
	if c.Leader(1, 0) != c.Members[0].Node || c.Leader(2, 0) != c.Members[1].Node || c.Leader(4, 0) != c.Members[0].Node || c.Leader(1, 1) != c.Members[1].Node {
		t.Fatal("leader rotation wrong")
	}
}

// TestCertifiedReceiptRejectsAnyFlippedBit flips every bit of an encoded
// certified receipt of a one-member committee; each variant must fail to
// decode or fail to verify.
func TestCertifiedReceiptRejectsAnyFlippedBit(t *testing.T) {
	c, cr, ss := soleCertified(t)
	enc := cr.Encode()
	for i := range len(enc) * 8 {
		bad := append([]byte(nil), enc...)
		bad[i/8] ^= 1 << (i % 8)
		r, err := DecodeCertifiedReceipt(bad)
		if err != nil {
			continue
		}
		if r.Verify(&c) == nil {
			t.Fatalf("bit %d flipped still verifies", i)
		}
	}
	// A committee with another key rejects it.
	other := signers(t, 2)[1]
	c2 := c
	c2.Members = []Member{{Node: ss[0].node, Weight: 1, BLSKey: other.sk.PublicKey()}}
	if cr.Verify(&c2) == nil {
		t.Fatal("verified under the wrong committee key")
	}
}

// soleCertified returns a one-member committee and a receipt it certified
// alone, as a one-member committee's node does.
func soleCertified(t testing.TB) (Committee, *CertifiedReceipt, []signer) {
	t.Helper()
	ss := signers(t, 1)
	p := id.ProgramOf([]byte("prog"), nil)
	c, _ := SelectCommittee(p, validators(ss), 1)
	r := sampleReceipt(p)
	b := Ballot{Program: p, Height: r.Height, Step: StepPrecommit, Value: BatchRoot([]id.Hash{r.ID()})}
	q, err := Certify(&c, b, []SignedBallot{SignBallot(ss[0].sk, 0, b)})
	if err != nil {
		t.Fatal(err)
	}
	crs := CertifiedBatch([]Receipt{r}, q)
	if err := crs[0].Verify(&c); err != nil {
		t.Fatal(err)
	}
	return c, &crs[0], ss
}

func TestReceiptEncodingIsCompact(t *testing.T) {
	r := sampleReceipt(id.Program{})
	enc := r.Encode()
	var back Receipt
	if err := codec.Unmarshal(enc, &back); err != nil {
		t.Fatal(err)
	}
	if back != r {
		t.Fatal("round trip changed the receipt")
	}
	// 9 hashes as 34-byte byte strings plus small fields: ids must not be
	// encoded as text.
	if len(enc) > 9*34+64+40 {
		t.Fatalf("receipt encodes to %d bytes: hashes are not byte strings?", len(enc))
	}
}

func FuzzDecodeCertifiedReceipt(f *testing.F) {
	c, cr, _ := soleCertified(f)
	f.Add(cr.Encode())
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := DecodeCertifiedReceipt(b)
		if err != nil {
			return
		}
		if !bytes.Equal(r.Encode(), b) {
			t.Fatal("accepted a non-canonical encoding")
		}
		if r.Verify(&c) == nil && r.Receipt.ID() != cr.Receipt.ID() {
			t.Fatal("a different receipt verified")
		}
	})
}
