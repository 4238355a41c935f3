package committee

import (
	"errors"
	"fmt"

	"github.com/onvm-network/onvm/internal/codec"
	"github.com/onvm-network/onvm/internal/consensus"
)

// Limits on a message between members.
const (
	// MaxMessageSize bounds a message: a proposal carries its value's
	// content (the batch of requests to re-execute).
	MaxMessageSize = 8 << 20
	// maxPolka bounds the prevotes sent with a proposal.
	maxPolka = consensus.MaxMembers
)

// ErrInvalidMessage reports a message that does not decode or verify.
var ErrInvalidMessage = errors.New("committee: invalid message")

// Message is what members send each other about one program's agreement:
// exactly one of a ballot, a proposal (with the polka of its valid round
// and its value's content), a request for decided heights, a decided
// height (for a member catching up), or a call a member took from a client
// (for whichever member leads a round to propose).
type Message struct {
	Ballot   *consensus.SignedBallot   `cbor:"1,keyasint,omitempty"`
	Proposal *consensus.SignedProposal `cbor:"2,keyasint,omitempty"`
	Polka    []consensus.SignedBallot  `cbor:"3,keyasint,omitempty"`
	Content  []byte                    `cbor:"4,keyasint,omitempty"`
	SyncFrom uint64                    `cbor:"5,keyasint,omitempty"` // send the decided heights from this one
	Decided  *consensus.Certificate    `cbor:"6,keyasint,omitempty"` // with Content: the decided value's
	Call     []byte                    `cbor:"7,keyasint,omitempty"` // the application's pending call
}

// Encode returns the canonical encoding.
func (m *Message) Encode() []byte { return codec.MustMarshal(m) }

// DecodeMessage strictly decodes a message and checks its shape (not its
// signatures: those need the committee).
func DecodeMessage(b []byte) (*Message, error) {
	if len(b) > MaxMessageSize {
		return nil, fmt.Errorf("%w: %d bytes (max %d)", ErrInvalidMessage, len(b), MaxMessageSize)
	}
	var m Message
	if err := codec.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidMessage, err)
	}
	kinds := 0
	for _, set := range []bool{m.Ballot != nil, m.Proposal != nil, m.SyncFrom != 0, m.Decided != nil, len(m.Call) > 0} {
		if set {
			kinds++
		}
	}
	switch {
	case kinds != 1 || (m.Call != nil && len(m.Call) == 0):
		return nil, fmt.Errorf("%w: %d kinds in one message", ErrInvalidMessage, kinds)
	case len(m.Polka) > maxPolka:
		return nil, fmt.Errorf("%w: polka of %d ballots", ErrInvalidMessage, len(m.Polka))
	case (len(m.Polka) > 0 || len(m.Content) > 0) && m.Proposal == nil && m.Decided == nil:
		return nil, fmt.Errorf("%w: content without a proposal", ErrInvalidMessage)
	case m.Ballot != nil:
		if err := m.Ballot.Ballot.Validate(); err != nil {
			return nil, err
		}
	case m.Proposal != nil:
		if err := m.Proposal.Proposal.Validate(); err != nil {
			return nil, err
		}
	case m.Decided != nil:
		if err := m.Decided.Ballot.Validate(); err != nil {
			return nil, err
		}
	}
	for i := range m.Polka {
		if err := m.Polka[i].Ballot.Validate(); err != nil {
			return nil, err
		}
	}
	return &m, nil
}
