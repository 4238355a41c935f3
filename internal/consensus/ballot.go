package consensus

import (
	"errors"
	"fmt"

	"github.com/onvm-network/onvm/internal/bls"
	"github.com/onvm-network/onvm/internal/codec"
	"github.com/onvm-network/onvm/internal/id"
)

// The agreement messages of a committee: ballots (prevotes and
// precommits), proposals, certificates (the precommits of a quorum,
// aggregated) and equivocation evidence. internal/bft decides with them;
// this file gives them their one byte form, their signatures and their
// checks.

// Step of a ballot.
type Step uint8

// Ballot steps (the values of bft.Step).
const (
	StepPrevote   Step = 2
	StepPrecommit Step = 3
)

// Limits on agreement messages.
const (
	// MaxRound bounds a round number. Round timeouts grow by a fixed
	// step, so an honest committee never comes near it; a larger round is
	// a faulty member's.
	MaxRound = 1 << 20
	// MaxMessageSize bounds the encoding of any agreement message. The
	// largest is a certificate of MaxMembers members.
	MaxMessageSize = 4 << 10
)

// ErrInvalidMessage reports a malformed or badly signed agreement message.
var ErrInvalidMessage = errors.New("invalid agreement message")

// Ballot is what a committee member signs when it votes: one value (zero:
// nil) for one (program, epoch, height, round, step). The member is not
// part of it, so the precommits of a quorum for one ballot aggregate into
// one signature that one pairing check verifies.
type Ballot struct {
	Program id.Program `cbor:"1,keyasint"`
	Epoch   uint64     `cbor:"2,keyasint"`
	Height  uint64     `cbor:"3,keyasint"`
	Round   uint32     `cbor:"4,keyasint"`
	Step    Step       `cbor:"5,keyasint"`
	Value   id.Hash    `cbor:"6,keyasint"`
}

// Validate checks the ballot's shape.
func (b *Ballot) Validate() error {
	switch {
	case b.Step != StepPrevote && b.Step != StepPrecommit:
		return fmt.Errorf("%w: step %d", ErrInvalidMessage, b.Step)
	case b.Height == 0:
		return fmt.Errorf("%w: height 0", ErrInvalidMessage)
	case b.Round > MaxRound:
		return fmt.Errorf("%w: round %d above %d", ErrInvalidMessage, b.Round, MaxRound)
	}
	return nil
}

// signingBytes returns what is signed: the canonical encoding.
func (b *Ballot) signingBytes() []byte { return codec.MustMarshal(b) }

// SignedBallot is a member's vote as sent between members: a ballot and
// its signature under DSTBallot. Member is the signer's index in the
// committee of the ballot's epoch.
type SignedBallot struct {
	Ballot    Ballot        `cbor:"1,keyasint"`
	Member    uint32        `cbor:"2,keyasint"`
	Signature bls.Signature `cbor:"3,keyasint"`
}

// SignBallot returns member's signed b.
func SignBallot(sk *bls.SecretKey, member uint32, b Ballot) SignedBallot {
	return SignedBallot{Ballot: b, Member: member, Signature: sk.Sign(bls.DSTBallot, b.signingBytes())}
}

// Verify checks v against committee c: its shape, that it is of c's
// program and epoch, and that the member it names signed it.
func (v *SignedBallot) Verify(c *Committee) error {
	if err := v.Ballot.Validate(); err != nil {
		return err
	}
	m, err := c.member(v.Ballot.Program, v.Ballot.Epoch, v.Member)
	if err != nil {
		return err
	}
	if !bls.Verify(m.BLSKey, bls.DSTBallot, v.Ballot.signingBytes(), v.Signature) {
		return fmt.Errorf("%w: bad ballot signature from member %d", ErrInvalidMessage, v.Member)
	}
	return nil
}

// of checks that a message of (p, epoch) is for c.
func (c *Committee) of(p id.Program, epoch uint64) error {
	switch {
	case p != c.Program:
		return fmt.Errorf("%w: for %s, committee of %s", ErrInvalidMessage, p, c.Program)
	case epoch != c.Epoch:
		return fmt.Errorf("%w: epoch %d, committee of epoch %d", ErrInvalidMessage, epoch, c.Epoch)
	}
	return nil
}

// member returns the member of index i of c after checking that a message
// of (p, epoch) is for c.
func (c *Committee) member(p id.Program, epoch uint64, i uint32) (*Member, error) {
	if err := c.of(p, epoch); err != nil {
		return nil, err
	}
	if int(i) >= len(c.Members) {
		return nil, fmt.Errorf("%w: member %d of %d", ErrNotMember, i, len(c.Members))
	}
	return &c.Members[i], nil
}

// Proposal is a leader's proposed value for a round: the id of the batch
// of transitions it executed (the shell carries the batch beside it).
// ValidRound is the round in which the value had a polka, −1 if none.
type Proposal struct {
	Program    id.Program `cbor:"1,keyasint"`
	Epoch      uint64     `cbor:"2,keyasint"`
	Height     uint64     `cbor:"3,keyasint"`
	Round      uint32     `cbor:"4,keyasint"`
	ValidRound int64      `cbor:"5,keyasint"`
	Value      id.Hash    `cbor:"6,keyasint"`
}

// Validate checks the proposal's shape.
func (p *Proposal) Validate() error {
	switch {
	case p.Height == 0:
		return fmt.Errorf("%w: height 0", ErrInvalidMessage)
	case p.Round > MaxRound:
		return fmt.Errorf("%w: round %d above %d", ErrInvalidMessage, p.Round, MaxRound)
	case p.ValidRound < -1 || p.ValidRound >= int64(p.Round):
		return fmt.Errorf("%w: valid round %d in round %d", ErrInvalidMessage, p.ValidRound, p.Round)
	case p.Value.IsZero():
		return fmt.Errorf("%w: no value", ErrInvalidMessage)
	}
	return nil
}

// SignedProposal is a proposal signed by the member that proposes it.
type SignedProposal struct {
	Proposal  Proposal      `cbor:"1,keyasint"`
	Member    uint32        `cbor:"2,keyasint"`
	Signature bls.Signature `cbor:"3,keyasint"`
}

// SignProposal returns member's signed p.
func SignProposal(sk *bls.SecretKey, member uint32, p Proposal) SignedProposal {
	return SignedProposal{Proposal: p, Member: member, Signature: sk.Sign(bls.DSTProposal, codec.MustMarshal(&p))}
}

// Verify checks sp against committee c: its shape, that it is of c's
// program and epoch, and that the member it names signed it. Whether that
// member is the round's proposer is the agreement core's check.
func (sp *SignedProposal) Verify(c *Committee) error {
	if err := sp.Proposal.Validate(); err != nil {
		return err
	}
	m, err := c.member(sp.Proposal.Program, sp.Proposal.Epoch, sp.Member)
	if err != nil {
		return err
	}
	if !bls.Verify(m.BLSKey, bls.DSTProposal, codec.MustMarshal(&sp.Proposal), sp.Signature) {
		return fmt.Errorf("%w: bad proposal signature from member %d", ErrInvalidMessage, sp.Member)
	}
	return nil
}

// Certificate is the precommits of members holding the threshold weight
// for one ballot, aggregated: proof that the ballot's value is decided at
// its height. It verifies with the committee's keys alone, with one
// pairing check.
type Certificate struct {
	Ballot    Ballot        `cbor:"1,keyasint"` // a precommit for a value
	Signers   []byte        `cbor:"2,keyasint"` // bitmap over the committee's members, LSB first
	Signature bls.Signature `cbor:"3,keyasint"`
}

// Certify aggregates precommits of members of c for ballot b into a
// certificate. Votes are verified; those for another ballot and repeated
// members are skipped; below the threshold weight is ErrNoQuorum.
func Certify(c *Committee, b Ballot, votes []SignedBallot) (*Certificate, error) {
	return certify(c, b, votes, false)
}

// CertifyVerified is Certify for votes whose signatures the caller has
// already verified against c (a committee shell verifies each vote as it
// arrives): it only aggregates.
func CertifyVerified(c *Committee, b Ballot, votes []SignedBallot) (*Certificate, error) {
	return certify(c, b, votes, true)
}

func certify(c *Committee, b Ballot, votes []SignedBallot, verified bool) (*Certificate, error) {
	if b.Step != StepPrecommit || b.Value.IsZero() {
		return nil, fmt.Errorf("%w: a certificate is of a precommit for a value", ErrInvalidMessage)
	}
	bitmap := make([]byte, (len(c.Members)+7)/8)
	var sigs []bls.Signature
	var weight uint64
	for i := range votes {
		v := &votes[i]
		if v.Ballot != b || int(v.Member) >= len(c.Members) || bitmap[v.Member/8]&(1<<(v.Member%8)) != 0 {
			continue
		}
		if !verified {
			if err := v.Verify(c); err != nil {
				return nil, err
			}
		}
		bitmap[v.Member/8] |= 1 << (v.Member % 8)
		sigs = append(sigs, v.Signature)
		weight += c.Members[v.Member].Weight
	}
	if weight < c.Threshold || len(sigs) == 0 {
		return nil, fmt.Errorf("%w: weight %d of %d", ErrNoQuorum, weight, c.Threshold)
	}
	agg, err := bls.Aggregate(sigs)
	if err != nil {
		return nil, err
	}
	return &Certificate{Ballot: b, Signers: bitmap, Signature: agg}, nil
}

// Verify checks q against committee c without re-executing anything.
func (q *Certificate) Verify(c *Committee) error {
	b := &q.Ballot
	if err := b.Validate(); err != nil {
		return err
	}
	if b.Step != StepPrecommit || b.Value.IsZero() {
		return fmt.Errorf("%w: a certificate is of a precommit for a value", ErrInvalidMessage)
	}
	if err := c.of(b.Program, b.Epoch); err != nil {
		return err
	}
	return verifyQuorum(c, q.Signers, bls.DSTBallot, b.signingBytes(), q.Signature)
}

// Evidence is two ballots signed by one member for one (program, epoch,
// height, round, step) with different values: proof that the member is
// faulty, which anyone holding the committee verifies.
type Evidence struct {
	First  SignedBallot `cbor:"1,keyasint"`
	Second SignedBallot `cbor:"2,keyasint"`
}

// Verify checks that e is evidence against a member of c.
func (e *Evidence) Verify(c *Committee) error {
	a, b := e.First.Ballot, e.Second.Ballot
	if e.First.Member != e.Second.Member {
		return fmt.Errorf("%w: evidence names members %d and %d", ErrInvalidMessage, e.First.Member, e.Second.Member)
	}
	if a.Value == b.Value {
		return fmt.Errorf("%w: evidence of one value", ErrInvalidMessage)
	}
	a.Value = b.Value
	if a != b {
		return fmt.Errorf("%w: evidence of two different ballots", ErrInvalidMessage)
	}
	if err := e.First.Verify(c); err != nil {
		return err
	}
	return e.Second.Verify(c)
}

// decode strictly decodes an agreement message of at most MaxMessageSize
// bytes.
func decode[T any](b []byte) (*T, error) {
	if len(b) > MaxMessageSize {
		return nil, fmt.Errorf("%w: %d bytes (max %d)", ErrInvalidMessage, len(b), MaxMessageSize)
	}
	var v T
	if err := codec.Unmarshal(b, &v); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidMessage, err)
	}
	return &v, nil
}

// DecodeSignedBallot strictly decodes a signed ballot and checks its shape
// (not its signature: that needs the committee).
func DecodeSignedBallot(b []byte) (*SignedBallot, error) {
	v, err := decode[SignedBallot](b)
	if err != nil {
		return nil, err
	}
	return v, v.Ballot.Validate()
}

// DecodeSignedProposal strictly decodes a signed proposal and checks its
// shape.
func DecodeSignedProposal(b []byte) (*SignedProposal, error) {
	p, err := decode[SignedProposal](b)
	if err != nil {
		return nil, err
	}
	return p, p.Proposal.Validate()
}

// DecodeCertificate strictly decodes a certificate and checks its shape.
func DecodeCertificate(b []byte) (*Certificate, error) {
	q, err := decode[Certificate](b)
	if err != nil {
		return nil, err
	}
	return q, q.Ballot.Validate()
}

// DecodeEvidence strictly decodes equivocation evidence.
func DecodeEvidence(b []byte) (*Evidence, error) {
	e, err := decode[Evidence](b)
	if err != nil {
		return nil, err
	}
	if err := e.First.Ballot.Validate(); err != nil {
		return nil, err
	}
	return e, e.Second.Ballot.Validate()
}
