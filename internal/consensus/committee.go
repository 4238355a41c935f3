// Package consensus holds the pure core of ONVM's per-program state
// consensus: committees, execution receipts, agreement messages,
// certificates and certified receipts, and their verification.
//
// A program's state advances through heights 1, 2, 3, … Each height has one
// finalized Receipt. The committee decides receipts in batches: members
// holding more than two thirds of its weight sign a precommit ballot for
// the root of the batch's receipt ids, and the signatures aggregate into a
// Certificate that anyone holding the committee's public keys verifies with
// one pairing check, without re-executing; a CertifiedReceipt is a receipt
// with that certificate and its path to the root.
//
// The package does no I/O and keeps no state: the transition engine that
// executes, collects votes and commits lives with the node's stores.
package consensus

import (
	"bytes"
	"errors"
	"fmt"
	"slices"

	"github.com/onvm-network/onvm/internal/bls"
	"github.com/onvm-network/onvm/internal/id"
)

// Limits on committees (the original's receipt verifier limits).
const (
	MaxMembers      = 1000
	MaxBitmapLength = (MaxMembers + 7) / 8
	// DefaultCommitteeSize is k in min(k, validators) when a program's
	// committee is chosen.
	DefaultCommitteeSize = 4
)

// Errors.
var (
	ErrInvalidCommittee = errors.New("invalid committee")
	ErrInvalidReceipt   = errors.New("invalid receipt")
	ErrNotMember        = errors.New("not a committee member")
	ErrNoQuorum         = errors.New("signers below the committee threshold")
)

// Member is one validator in a committee.
type Member struct {
	Node   id.Node       `cbor:"1,keyasint" json:"node"`
	Weight uint64        `cbor:"2,keyasint" json:"weight"`
	BLSKey bls.PublicKey `cbor:"3,keyasint" json:"bls_public_key"`
}

// Committee is the ordered set of validators that finalizes a program's
// transitions. Signer bitmaps index Members in this order.
type Committee struct {
	Program   id.Program `cbor:"1,keyasint" json:"program_id"`
	Epoch     uint64     `cbor:"2,keyasint" json:"epoch"`
	Members   []Member   `cbor:"3,keyasint" json:"members"`
	Threshold uint64     `cbor:"4,keyasint" json:"threshold"` // signer weight needed; > 2/3 of the total
}

// TotalWeight returns the sum of the members' weights.
func (c *Committee) TotalWeight() uint64 {
	var w uint64
	for _, m := range c.Members {
		w += m.Weight
	}
	return w
}

// QuorumThreshold returns the smallest weight strictly greater than two
// thirds of total.
func QuorumThreshold(total uint64) uint64 { return total*2/3 + 1 }

// Validate checks the committee's shape: 1..MaxMembers members with non-zero
// weights, distinct nodes and keys, and a threshold above two thirds of the
// total weight and no more than it.
func (c *Committee) Validate() error {
	n := len(c.Members)
	if n == 0 || n > MaxMembers {
		return fmt.Errorf("%w: %d members (want 1..%d)", ErrInvalidCommittee, n, MaxMembers)
	}
	nodes := make(map[id.Node]bool, n)
	keys := make(map[bls.PublicKey]bool, n)
	var total uint64
	for i, m := range c.Members {
		if m.Weight == 0 || m.Weight > 1<<32 {
			return fmt.Errorf("%w: member %d weight %d", ErrInvalidCommittee, i, m.Weight)
		}
		if nodes[m.Node] || keys[m.BLSKey] {
			return fmt.Errorf("%w: member %d repeats a node or key", ErrInvalidCommittee, i)
		}
		nodes[m.Node], keys[m.BLSKey] = true, true
		total += m.Weight
	}
	if c.Threshold < QuorumThreshold(total) || c.Threshold > total {
		return fmt.Errorf("%w: threshold %d not in (2/3·%d, %d]", ErrInvalidCommittee, c.Threshold, total, total)
	}
	return nil
}

// Index returns the position of node in the committee, or -1.
func (c *Committee) Index(node id.Node) int {
	return slices.IndexFunc(c.Members, func(m Member) bool { return m.Node == node })
}

// Leader returns the member that proposes the transition at height h
// (h ≥ 1): members rotate, height 1 is led by the first. Failover after a
// timeout moves to the next member: attempt a (0 first) is led by
// members[(h−1+a) mod n].
func (c *Committee) Leader(h uint64, attempt int) id.Node {
	n := uint64(len(c.Members))
	if n == 0 || h == 0 {
		return id.Node{}
	}
	return c.Members[(h-1+uint64(attempt))%n].Node
}

// Validator is a registered node that may sit on committees: its BLS key
// with a proof of possession, which makes key aggregation safe.
type Validator struct {
	Node   id.Node       `cbor:"1,keyasint" json:"node"`
	BLSKey bls.PublicKey `cbor:"2,keyasint" json:"bls_public_key"`
	Proof  bls.Signature `cbor:"3,keyasint" json:"proof_of_possession"`
}

// Verify checks the proof of possession.
func (v *Validator) Verify() error {
	if !bls.VerifyPossession(v.BLSKey, v.Proof) {
		return fmt.Errorf("%w: validator %s: bad proof of possession", ErrInvalidCommittee, v.Node)
	}
	return nil
}

// SelectCommittee chooses the committee of program p from validators by
// rendezvous hashing: each validator scores BLAKE3(program ‖ node) and the k
// lowest scores win, in score order; every member has weight 1. All nodes
// that know the same validator set choose the same committee. k ≤ 0 means
// DefaultCommitteeSize.
func SelectCommittee(p id.Program, validators []Validator, k int) (Committee, error) {
	if k <= 0 {
		k = DefaultCommitteeSize
	}
	type scored struct {
		score id.Hash
		v     Validator
	}
	seen := make(map[id.Node]bool, len(validators))
	var all []scored
	for _, v := range validators {
		if seen[v.Node] {
			continue
		}
		seen[v.Node] = true
		all = append(all, scored{id.Sum(p[:], v.Node[:]), v})
	}
	if len(all) == 0 {
		return Committee{}, fmt.Errorf("%w: no validators", ErrInvalidCommittee)
	}
	slices.SortFunc(all, func(a, b scored) int { return bytes.Compare(a.score[:], b.score[:]) })
	all = all[:min(k, len(all))]
	c := Committee{Program: p, Members: make([]Member, len(all))}
	for i, s := range all {
		c.Members[i] = Member{Node: s.v.Node, Weight: 1, BLSKey: s.v.BLSKey}
	}
	c.Threshold = QuorumThreshold(c.TotalWeight())
	return c, c.Validate()
}

// AggregateKey returns the aggregate of the members' BLS public keys (the
// original's aggregate_public_key). It is informative: receipts are
// verified against the keys their bitmap selects.
func (c *Committee) AggregateKey() (bls.PublicKey, error) {
	if len(c.Members) == 0 {
		return bls.PublicKey{}, fmt.Errorf("aggregate key of %s: %w: no members", c.Program, ErrInvalidCommittee)
	}
	keys := make([]bls.PublicKey, len(c.Members))
	for i := range c.Members {
		keys[i] = c.Members[i].BLSKey
	}
	pk, err := bls.AggregatePublicKeys(keys)
	if err != nil {
		return bls.PublicKey{}, fmt.Errorf("aggregate key of %s: %w: a member key is not a valid point", c.Program, ErrInvalidCommittee)
	}
	return pk, nil
}
