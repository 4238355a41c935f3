package chain

import (
	"fmt"

	"github.com/onvm-network/onvm/internal/bls"
	"github.com/onvm-network/onvm/internal/consensus"
	"github.com/onvm-network/onvm/internal/id"
)

// self returns this node as a validator: its BLS key with a proof of
// possession.
func (e *Engine) self() consensus.Validator {
	return consensus.Validator{Node: e.node, BLSKey: e.blsPub, Proof: e.keys.BLS.Prove()}
}

// selectCommittee chooses p's committee from the registered validators
// whose proofs of possession verify.
func (e *Engine) selectCommittee(p id.Program) (consensus.Committee, error) {
	vs := []consensus.Validator{e.self()}
	if e.opts.Validators != nil {
		vs = e.opts.Validators()
	}
	valid := vs[:0:0]
	for _, v := range vs {
		if err := v.Verify(); err != nil {
			e.log.Warn("validator skipped", "node", v.Node.String(), "err", err)
			continue
		}
		valid = append(valid, v)
	}
	c, err := consensus.SelectCommittee(p, valid, e.opts.CommitteeSize)
	if err != nil {
		return consensus.Committee{}, fmt.Errorf("select committee of %s: %w", p, err)
	}
	return c, nil
}

// canFinalize reports whether this node alone holds the threshold weight of
// c, with the key c records for it.
func (e *Engine) canFinalize(c *consensus.Committee) (int, error) {
	i := c.Index(e.node)
	switch {
	case i < 0:
		return -1, fmt.Errorf("%w: %s is not a member of the committee of %s", ErrNotInCommittee, e.node, c.Program)
	case c.Members[i].BLSKey != e.blsPub:
		return -1, fmt.Errorf("%w: the committee of %s records another BLS key for this node", ErrNotInCommittee, c.Program)
	case c.Members[i].Weight < c.Threshold:
		// Finalizing needs votes from peers: the network layer's path.
		return -1, fmt.Errorf("%w: weight %d of threshold %d without peers' votes", ErrNotInCommittee, c.Members[i].Weight, c.Threshold)
	}
	return i, nil
}

// memberOf reports whether this node sits on c with the key c records.
func (e *Engine) memberOf(c *consensus.Committee) bool {
	i := c.Index(e.node)
	return i >= 0 && c.Members[i].BLSKey == e.blsPub
}

// finalize certifies r alone (member index i holds the threshold): a
// precommit of the batch of r alone, at r's height, in round 0. An
// aggregate of one signature is that signature, so nothing is verified or
// aggregated here: the signature was just made with the key the committee
// records. A one-member committee's batch numbers are its heights.
func (e *Engine) finalize(c *consensus.Committee, i int, r consensus.Receipt) *consensus.CertifiedReceipt {
	b := consensus.Ballot{Program: r.Program, Epoch: r.Epoch, Height: r.Height, Step: consensus.StepPrecommit, Value: consensus.BatchRoot([]id.Hash{r.ID()})}
	q, err := consensus.CertifyVerified(c, b, []consensus.SignedBallot{consensus.SignBallot(e.keys.BLS, uint32(i), b)})
	if err != nil {
		panic(fmt.Sprintf("chain: a member holding the threshold cannot certify alone: %v", err)) // canFinalize checked it
	}
	return &consensus.CertifiedBatch([]consensus.Receipt{r}, q)[0]
}

// AggregatePublicKey returns the aggregate of the committee members' BLS
// public keys (the original's aggregate_public_key). It is informative:
// receipts are verified against the keys their bitmap selects.
func AggregatePublicKey(c *consensus.Committee) (bls.PublicKey, error) { return c.AggregateKey() }
