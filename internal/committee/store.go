package committee

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble/v2"

	"github.com/onvm-network/onvm/internal/codec"
	"github.com/onvm-network/onvm/internal/consensus"
	"github.com/onvm-network/onvm/internal/id"
	"github.com/onvm-network/onvm/internal/kv"
)

// Keys under c/, per program and epoch:
//
//	c/s/<program><epoch><height><round><step>  this member's signed message (step 1: proposal)
//	c/k/<program><epoch><height><round>0       the polka persisted with its precommit of round
//	c/e/<program><epoch><height><round><step><member>  equivocation evidence
const (
	nsSigned   = "c/s/"
	nsPolka    = "c/k/"
	nsEvidence = "c/e/"
)

// stepProposal is the step byte of a proposal's key.
const stepProposal = 1

// ErrEquivocation reports an attempt to sign a second, different message
// for one (program, epoch, height, round, step): a bug in the core or
// storage lost; never signed.
var ErrEquivocation = errors.New("committee: refusing to sign a conflicting message")

// store is the signing store: a member's messages, one per (program,
// epoch, height, round, step), written with sync before they are sent.
type store struct{ db *pebble.DB }

func slot(ns string, p id.Program, epoch, height uint64, round uint32, step uint8) []byte {
	k := make([]byte, 0, len(ns)+32+8+8+4+1)
	k = append(k, ns...)
	k = append(k, p[:]...)
	k = binary.BigEndian.AppendUint64(k, epoch)
	k = binary.BigEndian.AppendUint64(k, height)
	k = binary.BigEndian.AppendUint32(k, round)
	return append(k, step)
}

func heightPrefix(ns string, p id.Program, epoch, height uint64) []byte {
	k := make([]byte, 0, len(ns)+32+16)
	k = append(k, ns...)
	k = append(k, p[:]...)
	k = binary.BigEndian.AppendUint64(k, epoch)
	return binary.BigEndian.AppendUint64(k, height)
}

// signBallot returns b signed by this member: the stored message if it
// signed b before, else a new signature, stored (synced) before it is
// returned — with polka, for a precommit, in the same batch. A ballot that
// differs from the one stored for its slot is refused.
func (s *store) signBallot(b consensus.Ballot, sign func() consensus.SignedBallot, polka []consensus.SignedBallot) (consensus.SignedBallot, error) {
	k := slot(nsSigned, b.Program, b.Epoch, b.Height, b.Round, uint8(b.Step))
	sb, err := signOnce(s.db, k, func(prev *consensus.SignedBallot) bool { return prev.Ballot == b }, sign,
		func(batch *pebble.Batch) error {
			if len(polka) == 0 {
				return nil
			}
			return batch.Set(slot(nsPolka, b.Program, b.Epoch, b.Height, b.Round, 0), codec.MustMarshal(polka), nil)
		})
	if err != nil {
		return sb, fmt.Errorf("ballot of %s h=%d r=%d step %d: %w", b.Program, b.Height, b.Round, b.Step, err)
	}
	return sb, nil
}

// signProposal is signBallot for proposals.
func (s *store) signProposal(p consensus.Proposal, sign func() consensus.SignedProposal) (consensus.SignedProposal, error) {
	k := slot(nsSigned, p.Program, p.Epoch, p.Height, p.Round, stepProposal)
	sp, err := signOnce(s.db, k, func(prev *consensus.SignedProposal) bool { return prev.Proposal == p }, sign, nil)
	if err != nil {
		return sp, fmt.Errorf("proposal of %s h=%d r=%d: %w", p.Program, p.Height, p.Round, err)
	}
	return sp, nil
}

// signOnce returns the message stored under k when same accepts it, and
// ErrEquivocation when it does not; with k empty it signs, and stores the
// message with extra's writes in one synced batch before returning it.
func signOnce[M any](db *pebble.DB, k []byte, same func(*M) bool, sign func() M, extra func(*pebble.Batch) error) (M, error) {
	var zero M
	v, ok, err := kv.Get(db, k)
	if err != nil {
		return zero, fmt.Errorf("committee store: %w", err)
	}
	if ok {
		var prev M
		if err := codec.Unmarshal(v, &prev); err != nil {
			return zero, fmt.Errorf("committee store: %w", err)
		}
		if !same(&prev) {
			return zero, ErrEquivocation
		}
		return prev, nil
	}
	m := sign()
	b := db.NewBatch()
	defer b.Close()
	if err := b.Set(k, codec.MustMarshal(&m), nil); err != nil {
		return zero, err
	}
	if extra != nil {
		if err := extra(b); err != nil {
			return zero, err
		}
	}
	if err := b.Commit(pebble.Sync); err != nil {
		return zero, fmt.Errorf("committee store: %w", err)
	}
	return m, nil
}

// height returns what this member signed at (p, epoch, height), and the
// polkas persisted with its precommits.
func (s *store) height(p id.Program, epoch, height uint64) ([]consensus.SignedProposal, []consensus.SignedBallot, []consensus.SignedBallot, error) {
	var props []consensus.SignedProposal
	var ballots, polkas []consensus.SignedBallot
	err := kv.Scan(s.db, heightPrefix(nsSigned, p, epoch, height), func(k, v []byte) error {
		if k[len(k)-1] == stepProposal {
			var sp consensus.SignedProposal
			if err := codec.Unmarshal(v, &sp); err != nil {
				return err
			}
			props = append(props, sp)
			return nil
		}
		var sb consensus.SignedBallot
		if err := codec.Unmarshal(v, &sb); err != nil {
			return err
		}
		ballots = append(ballots, sb)
		return nil
	})
	if err != nil {
		return nil, nil, nil, fmt.Errorf("committee store: %w", err)
	}
	err = kv.Scan(s.db, heightPrefix(nsPolka, p, epoch, height), func(_, v []byte) error {
		var vs []consensus.SignedBallot
		if err := codec.Unmarshal(v, &vs); err != nil {
			return err
		}
		polkas = append(polkas, vs...)
		return nil
	})
	if err != nil {
		return nil, nil, nil, fmt.Errorf("committee store: %w", err)
	}
	return props, ballots, polkas, nil
}

// forget deletes what this member signed at heights of (p, epoch) below
// height: they are decided, and applied by the application.
func (s *store) forget(p id.Program, epoch, height uint64) error {
	b := s.db.NewBatch()
	defer b.Close()
	for _, ns := range []string{nsSigned, nsPolka} {
		if err := b.DeleteRange(heightPrefix(ns, p, epoch, 0), heightPrefix(ns, p, epoch, height), nil); err != nil {
			return err
		}
	}
	return b.Commit(pebble.NoSync)
}

// putEvidence stores evidence (once per slot and member).
func (s *store) putEvidence(e *consensus.Evidence) error {
	b := e.First.Ballot
	k := binary.BigEndian.AppendUint32(slot(nsEvidence, b.Program, b.Epoch, b.Height, b.Round, uint8(b.Step)), e.First.Member)
	return s.db.Set(k, codec.MustMarshal(e), pebble.Sync)
}

// evidence lists the stored evidence, at most limit items.
func (s *store) evidence(limit int) ([]consensus.Evidence, error) {
	var out []consensus.Evidence
	err := kv.Scan(s.db, []byte(nsEvidence), func(_, v []byte) error {
		if len(out) >= limit {
			return kv.ErrStop
		}
		var e consensus.Evidence
		if err := codec.Unmarshal(v, &e); err != nil {
			return err
		}
		out = append(out, e)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("committee store: %w", err)
	}
	return out, nil
}
