package replica

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/onvm-network/onvm/internal/codec"
	"github.com/onvm-network/onvm/internal/consensus"
	"github.com/onvm-network/onvm/internal/dag"
	"github.com/onvm-network/onvm/internal/dag/op"
	"github.com/onvm-network/onvm/internal/id"
	"github.com/onvm-network/onvm/internal/identity"
)

// ValidatorSet is the set of registered validators committees are chosen
// from: every validator_registered operation applied, plus this node. A
// node that registered two keys keeps the lower one, so the set does not
// depend on the order the registrations arrived in. It is built before
// the chain engine, which chooses committees from it, and the replica,
// whose handler grows it.
//
// A validator is live while its heartbeats arrive: each node registers
// again every fifth of the timeout (Replica.heartbeatLoop), and the
// registration's vertex timestamp is when it was last heard of. Only live
// validators are chosen for new committees (Live).
type ValidatorSet struct {
	db      *pebble.DB
	timeout time.Duration // 0: every registered validator is live
	now     func() time.Time
	mu      sync.RWMutex
	self    consensus.Validator
	m       map[id.Node]consensus.Validator
	heard   map[id.Node]int64 // Unix ms of the latest heartbeat's vertex
	allow   map[id.Node]bool  // nil: every registered validator may sit on committees
}

// DefaultValidatorTimeout is how long a validator stays live without a
// heartbeat (network.validator_timeout).
const DefaultValidatorTimeout = 5 * time.Minute

// OpenValidators loads the validator set stored in db; self is this node
// as a validator (SelfValidator), timeout how long another stays live
// without a heartbeat (0: for ever).
func OpenValidators(db *pebble.DB, self consensus.Validator, timeout time.Duration) (*ValidatorSet, error) {
	s := &ValidatorSet{db: db, timeout: timeout, now: time.Now, self: self,
		m: make(map[id.Node]consensus.Validator), heard: make(map[id.Node]int64)}
	err := scan(db, []byte(pfxValidator), func(_, v []byte) (bool, error) {
		var val consensus.Validator
		if err := codec.Unmarshal(v, &val); err != nil {
			return false, fmt.Errorf("load validators: %w", err)
		}
		s.m[val.Node] = val
		return true, nil
	})
	if err != nil {
		return nil, err
	}
	err = scan(db, []byte(pfxHeard), func(k, v []byte) (bool, error) {
		if len(k) == len(pfxHeard)+id.Size && len(v) == 8 {
			s.heard[id.Node(k[len(pfxHeard):])] = int64(binary.BigEndian.Uint64(v))
		}
		return true, nil
	})
	if err != nil {
		return nil, fmt.Errorf("load validator heartbeats: %w", err)
	}
	return s, nil
}

// Restrict limits the validators committees are chosen from to nodes
// (network.validators): an operator's
// allow-list for a closed network, where registering a key is not enough
// to be trusted with a program's state. Registrations of other nodes are
// still applied and stored — every replica applies the same DAG — and
// they may still forward executions, but List and Live leave them out. Every node of the network
// must be given the same list, or they choose different committees. An
// empty list lifts the restriction. It is called before the set is used.
func (s *ValidatorSet) Restrict(nodes []id.Node) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(nodes) == 0 {
		s.allow = nil
		return
	}
	s.allow = make(map[id.Node]bool, len(nodes))
	for _, n := range nodes {
		s.allow[n] = true
	}
}

// allowed reports whether n may sit on committees. s.mu is held.
func (s *ValidatorSet) allowed(n id.Node) bool { return s.allow == nil || s.allow[n] }

// heardAt records a heartbeat of n in a vertex stamped at ms (Unix ms).
func (s *ValidatorSet) heardAt(n id.Node, ms int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ms <= s.heard[n] {
		return nil
	}
	s.heard[n] = ms
	if err := s.db.Set(key(pfxHeard, n[:]), be64(uint64(ms)), pebble.NoSync); err != nil {
		return fmt.Errorf("store heartbeat of %s: %w", n, err)
	}
	return nil
}

// Live returns the validators heard from within the timeout, in node id
// order, this node always included: the ones new committees are chosen
// from (chain.Options.Validators).
func (s *ValidatorSet) Live() []consensus.Validator {
	all := s.List()
	if s.timeout <= 0 {
		return all
	}
	since := s.now().Add(-s.timeout).UnixMilli()
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := all[:0]
	for _, v := range all {
		if v.Node == s.self.Node || s.heard[v.Node] >= since {
			out = append(out, v)
		}
	}
	return out
}

// SelfValidator is the node of keys as a validator: its BLS key and proof
// of possession.
func SelfValidator(keys *identity.Keys) consensus.Validator {
	return consensus.Validator{Node: keys.Node(), BLSKey: keys.BLS.PublicKey(), Proof: keys.BLS.Prove()}
}

// add records v (whose proof of possession verified); it reports whether
// the set changed.
func (s *ValidatorSet) add(v consensus.Validator) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.m[v.Node]; ok && bytes.Compare(old.BLSKey[:], v.BLSKey[:]) <= 0 {
		return false, nil
	}
	if err := s.db.Set(key(pfxValidator, v.Node[:]), codec.MustMarshal(&v), pebble.NoSync); err != nil {
		return false, fmt.Errorf("store validator %s: %w", v.Node, err)
	}
	s.m[v.Node] = v
	return true, nil
}

// List returns the validators in node id order, this node included (both
// only if the allow-list, when there is one, names them):
// chain.Options.Validators.
func (s *ValidatorSet) List() []consensus.Validator {
	s.mu.RLock()
	out := make([]consensus.Validator, 0, len(s.m)+1)
	for _, v := range s.m {
		if s.allowed(v.Node) {
			out = append(out, v)
		}
	}
	_, registered := s.m[s.self.Node]
	selfAllowed := s.allowed(s.self.Node)
	s.mu.RUnlock()
	if !registered && selfAllowed {
		out = append(out, s.self)
	}
	slices.SortFunc(out, func(a, b consensus.Validator) int { return bytes.Compare(a.Node[:], b.Node[:]) })
	return out
}

// has reports whether n registered as a validator (allowed on committees
// or not: a node outside the allow-list may still forward its clients'
// executions to a committee).
func (s *ValidatorSet) has(n id.Node) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	_, ok := s.m[n]
	return ok
}

// registered reports whether this node's registration, with its current
// key, was applied.
func (s *ValidatorSet) registered() bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	have, ok := s.m[s.self.Node]
	return ok && have.BLSKey == s.self.BLSKey
}

// Validators returns the registered validator set, in node id order, this
// node always included: chain.Options.Validators.
func (r *Replica) Validators() []consensus.Validator { return r.vals.List() }

// IsValidator reports whether node n registered as a validator: who may
// forward executions to this node (p2p.ExecConfig.Allow).
func (r *Replica) IsValidator(n id.Node) bool { return n != r.self && r.vals.has(n) }

// heartbeatLoop registers this node again every fifth of the validator
// timeout, so that peers keep choosing it for new committees.
func (r *Replica) heartbeatLoop() {
	if r.vals.timeout <= 0 {
		return
	}
	t := time.NewTicker(r.vals.timeout / 5)
	defer t.Stop()
	for {
		select {
		case <-r.ctx.Done():
			return
		case <-t.C:
		}
		b := r.db.NewBatch()
		err := r.out.StageValidator(b, r.vals.self)
		if err == nil {
			err = b.Commit(pebble.NoSync) // a lost heartbeat is replaced by the next
		}
		_ = b.Close()
		if err != nil && r.ctx.Err() == nil {
			r.log.Warn("validator heartbeat not staged", "err", err)
		}
	}
}

// register publishes this node's validator registration unless the DAG
// already holds it. A crash before its vertex leaves it in the outbox; a
// start before the vertex is applied may stage it a second time, which
// the set ignores.
func (r *Replica) register() error {
	if r.vals.registered() {
		return nil
	}
	b := r.db.NewBatch()
	defer b.Close()
	if err := r.out.StageValidator(b, r.vals.self); err != nil {
		return err
	}
	return b.Commit(pebble.Sync)
}

// validatorHandler applies validator_registered: the proof of possession
// was checked by the stateless validator; the set is grow-only, and the
// vertex's timestamp is the validator's latest heartbeat.
type validatorHandler struct{ r *Replica }

func (h validatorHandler) Apply(_ context.Context, o dag.Op, vx *dag.Vertex) error {
	v, err := op.DecodeValidatorRegistered(o)
	if err != nil {
		return fmt.Errorf("%w: %w", dag.ErrInvalidOp, err) // validated before acceptance: cannot happen
	}
	if _, err := h.r.vals.add(*v); err != nil {
		return err
	}
	return h.r.vals.heardAt(v.Node, vx.Timestamp) // its own vertex: the stateless validator checked
}
