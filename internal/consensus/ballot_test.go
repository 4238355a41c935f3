package consensus

import (
	"bytes"
	"errors"
	"testing"

	"github.com/onvm-network/onvm/internal/bls"
	"github.com/onvm-network/onvm/internal/codec"
	"github.com/onvm-network/onvm/internal/id"
)

// committeeOf returns the committee of k members of p with their secret
// keys in member order.
func committeeOf(t testing.TB, p id.Program, k int) (Committee, []*bls.SecretKey) {
	t.Helper()
	ss := signers(t, k)
	c, err := SelectCommittee(p, validators(ss), k)
	if err != nil {
		t.Fatal(err)
	}
	byNode := map[id.Node]*bls.SecretKey{}
	for _, s := range ss {
		byNode[s.node] = s.sk
	}
	keys := make([]*bls.SecretKey, k)
	for i, m := range c.Members {
		keys[i] = byNode[m.Node]
	}
	return c, keys
}

// quorum returns b signed by the first n members and their certificate.
func quorum(t testing.TB, c *Committee, keys []*bls.SecretKey, b Ballot, n int) ([]SignedBallot, *Certificate) {
	t.Helper()
	var votes []SignedBallot
	for i := range n {
		votes = append(votes, SignBallot(keys[i], uint32(i), b))
	}
	q, err := Certify(c, b, votes)
	if err != nil {
		t.Fatal(err)
	}
	return votes, q
}

// againstOneBallot runs verify as sub-benchmark name beside the baseline
// of checking one ballot signature, in the same run.
func againstOneBallot(b *testing.B, c *Committee, vote SignedBallot, name string, verify func() error) {
	b.Run("one-ballot", func(b *testing.B) {
		for b.Loop() {
			if err := vote.Verify(c); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run(name, func(b *testing.B) {
		for b.Loop() {
			if err := verify(); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func precommitOf(p id.Program, value id.Hash) Ballot {
	return Ballot{Program: p, Epoch: 0, Height: 7, Round: 2, Step: StepPrecommit, Value: value}
}

func TestSignedBallotVerify(t *testing.T) {
	p := id.ProgramOf([]byte("prog"), nil)
	c, keys := committeeOf(t, p, 4)
	b := precommitOf(p, id.Sum([]byte("batch")))
	good := SignBallot(keys[1], 1, b)
	if err := good.Verify(&c); err != nil {
		t.Fatalf("a good ballot: %v", err)
	}
	for _, tc := range []struct {
		name   string
		mutate func(*SignedBallot)
		want   error
	}{
		{"another member's index", func(v *SignedBallot) { v.Member = 2 }, ErrInvalidMessage},
		{"no such member", func(v *SignedBallot) { v.Member = 4 }, ErrNotMember},
		{"another value", func(v *SignedBallot) { v.Ballot.Value = id.Sum([]byte("other")) }, ErrInvalidMessage},
		{"another round", func(v *SignedBallot) { v.Ballot.Round++ }, ErrInvalidMessage},
		{"another step", func(v *SignedBallot) { v.Ballot.Step = StepPrevote }, ErrInvalidMessage},
		{"another epoch", func(v *SignedBallot) { v.Ballot.Epoch = 1 }, ErrInvalidMessage},
		{"another program", func(v *SignedBallot) { v.Ballot.Program = id.ProgramOf([]byte("x"), nil) }, ErrInvalidMessage},
		{"no step", func(v *SignedBallot) { v.Ballot.Step = 1 }, ErrInvalidMessage},
		{"height 0", func(v *SignedBallot) { v.Ballot.Height = 0 }, ErrInvalidMessage},
		{"a far round", func(v *SignedBallot) { v.Ballot.Round = MaxRound + 1 }, ErrInvalidMessage},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := good
			tc.mutate(&v)
			if err := v.Verify(&c); !errors.Is(err, tc.want) {
				t.Fatalf("Verify: %v, want %v", err, tc.want)
			}
		})
	}
}

func TestSignedProposalVerify(t *testing.T) {
	p := id.ProgramOf([]byte("prog"), nil)
	c, keys := committeeOf(t, p, 4)
	prop := Proposal{Program: p, Height: 3, Round: 1, ValidRound: 0, Value: id.Sum([]byte("batch"))}
	sp := SignProposal(keys[2], 2, prop)
	if err := sp.Verify(&c); err != nil {
		t.Fatalf("a good proposal: %v", err)
	}
	// A proposal signature is not a ballot signature of the same bytes.
	forged := sp
	forged.Proposal.ValidRound = -1
	if err := forged.Verify(&c); !errors.Is(err, ErrInvalidMessage) {
		t.Fatalf("altered proposal: %v", err)
	}
	for _, vr := range []int64{1, 5, -2} {
		bad := prop
		bad.ValidRound = vr
		if err := bad.Validate(); !errors.Is(err, ErrInvalidMessage) {
			t.Fatalf("valid round %d in round 1: %v", vr, err)
		}
	}
	empty := prop
	empty.Value = id.Hash{}
	if err := empty.Validate(); !errors.Is(err, ErrInvalidMessage) {
		t.Fatalf("a proposal of no value: %v", err)
	}
}

func TestCertificate(t *testing.T) {
	p := id.ProgramOf([]byte("prog"), nil)
	c, keys := committeeOf(t, p, 4)
	b := precommitOf(p, id.Sum([]byte("batch")))
	vote := func(i int) SignedBallot { return SignBallot(keys[i], uint32(i), b) }
	other := b
	other.Value = id.Sum([]byte("other"))

	if _, err := Certify(&c, b, []SignedBallot{vote(0), vote(1), vote(1), SignBallot(keys[2], 2, other)}); !errors.Is(err, ErrNoQuorum) {
		t.Fatalf("two members (one twice, one for another value): %v", err)
	}
	q, err := Certify(&c, b, []SignedBallot{vote(3), vote(0), vote(2)})
	if err != nil {
		t.Fatal(err)
	}
	if q.Signers[0] != 0b1101 {
		t.Fatalf("bitmap %08b, want 00001101", q.Signers[0])
	}
	if err := q.Verify(&c); err != nil {
		t.Fatalf("a good certificate: %v", err)
	}
	enc := codec.MustMarshal(q)
	back, err := DecodeCertificate(enc)
	if err != nil || back.Verify(&c) != nil {
		t.Fatalf("round trip: %v", err)
	}
	for _, tc := range []struct {
		name   string
		mutate func(*Certificate)
		want   error
	}{
		{"another value", func(q *Certificate) { q.Ballot.Value = other.Value }, ErrInvalidReceipt},
		{"another round", func(q *Certificate) { q.Ballot.Round = 3 }, ErrInvalidReceipt},
		{"a prevote", func(q *Certificate) { q.Ballot.Step = StepPrevote }, ErrInvalidMessage},
		{"below the threshold", func(q *Certificate) { q.Signers = []byte{0b0101} }, ErrNoQuorum},
		{"a signer too many", func(q *Certificate) { q.Signers = []byte{0b1111} }, ErrInvalidReceipt},
		{"a bit beyond the members", func(q *Certificate) { q.Signers = []byte{0b10001101} }, ErrInvalidReceipt},
		{"a short bitmap", func(q *Certificate) { q.Signers = nil }, ErrInvalidReceipt},
		{"another epoch", func(q *Certificate) { q.Ballot.Epoch = 1 }, ErrInvalidMessage},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bad := *q
			tc.mutate(&bad)
			if err := bad.Verify(&c); !errors.Is(err, tc.want) {
				t.Fatalf("Verify: %v, want %v", err, tc.want)
			}
		})
	}
	if _, err := Certify(&c, Ballot{Program: p, Height: 7, Step: StepPrecommit}, nil); !errors.Is(err, ErrInvalidMessage) {
		t.Fatalf("a certificate of nil: %v", err)
	}
}

func TestEvidence(t *testing.T) {
	p := id.ProgramOf([]byte("prog"), nil)
	c, keys := committeeOf(t, p, 4)
	a := precommitOf(p, id.Sum([]byte("a")))
	b := a
	b.Value = id.Sum([]byte("b"))
	e := Evidence{First: SignBallot(keys[1], 1, a), Second: SignBallot(keys[1], 1, b)}
	if err := e.Verify(&c); err != nil {
		t.Fatalf("good evidence: %v", err)
	}
	laterRound := b
	laterRound.Round++
	for _, tc := range []struct {
		name string
		e    Evidence
	}{
		{"one value", Evidence{First: e.First, Second: e.First}},
		{"two rounds", Evidence{First: e.First, Second: SignBallot(keys[1], 1, laterRound)}},
		{"two members", Evidence{First: e.First, Second: SignBallot(keys[2], 2, b)}},
		{"a forged second", Evidence{First: e.First, Second: SignBallot(keys[2], 1, b)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.e.Verify(&c); !errors.Is(err, ErrInvalidMessage) {
				t.Fatalf("Verify: %v, want ErrInvalidMessage", err)
			}
		})
	}
}

func TestAgreementDecodersAreStrict(t *testing.T) {
	p := id.ProgramOf([]byte("prog"), nil)
	_, keys := committeeOf(t, p, 1)
	v := SignBallot(keys[0], 0, precommitOf(p, id.Sum([]byte("v"))))
	enc := codec.MustMarshal(&v)
	if _, err := DecodeSignedBallot(enc); err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string][]byte{
		"trailing byte": append(bytes.Clone(enc), 0),
		"truncated":     enc[:len(enc)-1],
		"oversized":     make([]byte, MaxMessageSize+1),
		"empty":         nil,
	} {
		if _, err := DecodeSignedBallot(b); !errors.Is(err, ErrInvalidMessage) {
			t.Errorf("%s: %v, want ErrInvalidMessage", name, err)
		}
	}
	bad := v
	bad.Ballot.Step = 9
	if _, err := DecodeSignedBallot(codec.MustMarshal(&bad)); !errors.Is(err, ErrInvalidMessage) {
		t.Errorf("step 9: %v", err)
	}
}

// FuzzDecodeAgreement feeds the five agreement decoders: whatever they
// accept is canonical (one byte form), and nothing verifies against the
// committee unless a member signed it.
func FuzzDecodeAgreement(f *testing.F) {
	p := id.ProgramOf([]byte("prog"), nil)
	c, keys := committeeOf(f, p, 4)
	b := precommitOf(p, id.Sum([]byte("v")))
	votes := []SignedBallot{SignBallot(keys[0], 0, b), SignBallot(keys[1], 1, b), SignBallot(keys[2], 2, b)}
	q, err := Certify(&c, b, votes)
	if err != nil {
		f.Fatal(err)
	}
	other := b
	other.Value = id.Sum([]byte("w"))
	sp := SignProposal(keys[1], 1, Proposal{Program: p, Height: 7, Round: 2, ValidRound: 1, Value: b.Value})
	f.Add(uint8(0), codec.MustMarshal(&votes[0]))
	f.Add(uint8(1), codec.MustMarshal(&sp))
	f.Add(uint8(2), codec.MustMarshal(q))
	f.Add(uint8(3), codec.MustMarshal(&Evidence{First: votes[0], Second: SignBallot(keys[0], 0, other)}))
	f.Add(uint8(4), codec.MustMarshal(&CertifiedReceipt{Receipt: sampleReceipt(p), Count: 1, Certificate: *q}))
	f.Fuzz(func(t *testing.T, kind uint8, data []byte) {
		var v any
		var verify func() error
		switch kind % 5 {
		case 4:
			m, err := DecodeCertifiedReceipt(data)
			if err != nil {
				return
			}
			v, verify = m, func() error { return m.Verify(&c) }
		case 0:
			m, err := DecodeSignedBallot(data)
			if err != nil {
				return
			}
			v, verify = m, func() error { return m.Verify(&c) }
		case 1:
			m, err := DecodeSignedProposal(data)
			if err != nil {
				return
			}
			v, verify = m, func() error { return m.Verify(&c) }
		case 2:
			m, err := DecodeCertificate(data)
			if err != nil {
				return
			}
			v, verify = m, func() error { return m.Verify(&c) }
		case 3:
			m, err := DecodeEvidence(data)
			if err != nil {
				return
			}
			v, verify = m, func() error { return m.Verify(&c) }
		}
		if !bytes.Equal(codec.MustMarshal(v), data) {
			t.Fatal("accepted a non-canonical encoding")
		}
		_ = verify() // must not panic, whatever it says
	})
}

// BenchmarkVerifyCertificate measures offline verification of a
// certificate of a seven-member committee (target ≤ 2 ms) against the
// baseline of verifying one member's ballot signature in the same run.
func BenchmarkVerifyCertificate(b *testing.B) {
	p := id.ProgramOf([]byte("prog"), nil)
	c, keys := committeeOf(b, p, 7)
	votes, q := quorum(b, &c, keys, precommitOf(p, id.Sum([]byte("v"))), 5)
	againstOneBallot(b, &c, votes[0], "certificate-k7", func() error { return q.Verify(&c) })
}
