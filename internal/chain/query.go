package chain

import (
	"fmt"

	"github.com/cockroachdb/pebble/v2"

	"github.com/onvm-network/onvm/internal/consensus"
	"github.com/onvm-network/onvm/internal/id"
	"github.com/onvm-network/onvm/internal/kv"
	"github.com/onvm-network/onvm/internal/state"
	"github.com/onvm-network/onvm/internal/wasm"
)

// MaxPage bounds one page of Receipts and Transitions.
const MaxPage = 1000

// Record is a committed transition as this node stores it.
type Record struct {
	Transition
	Logs []wasm.Log // the guest's logs when this node executed it
}

// record reads the transition of p at height h; withOutput also reads the
// writes, output and logs.
func (e *Engine) record(p id.Program, h uint64, withOutput bool) (*Record, error) {
	b, ok, err := kv.Get(e.db, heightKey(nsReceipt, p, h))
	if err != nil {
		return nil, fmt.Errorf("read receipt %s height %d: %w", p, h, err)
	}
	if !ok {
		return nil, fmt.Errorf("receipt %s height %d: %w", p, h, ErrNotFound)
	}
	agg, err := consensus.DecodeCertifiedReceipt(b)
	if err != nil {
		return nil, fmt.Errorf("read receipt %s height %d: %w: %v", p, h, ErrCorrupt, err)
	}
	rec := &Record{Transition: Transition{Receipt: *agg}}
	if !withOutput {
		return rec, nil
	}
	var ws []wireWrite
	if ok, err := decode(e.db, heightKey(nsWrites, p, h), &ws); err != nil || !ok {
		return nil, fmt.Errorf("read writes %s height %d: %w (present %v)", p, h, err, ok)
	}
	rec.Writes = fromWire(ws)
	var out outputRecord
	ok, err = decode(e.db, heightKey(nsOutput, p, h), &out)
	if err != nil {
		return nil, fmt.Errorf("read output %s height %d: %w", p, h, err)
	}
	if ok {
		rec.HasOutput, rec.Output, rec.Logs = true, nonNil(out.Output), logsFromWire(out.Logs)
	}
	return rec, nil
}

// Receipt returns the stored transition whose receipt id is rid, with its
// writes and output.
func (e *Engine) Receipt(rid id.Hash) (*Record, error) {
	v, ok, err := kv.Get(e.db, key(nsByID, rid[:]))
	if err != nil {
		return nil, fmt.Errorf("read receipt %s: %w", rid, err)
	}
	if !ok {
		return nil, fmt.Errorf("receipt %s: %w", rid, ErrNotFound)
	}
	p, h, err := location(v)
	if err != nil {
		return nil, err
	}
	return e.record(p, h, true)
}

// Receipts returns up to limit certified receipts of p from height from
// (≥ 1) upward, and the height to continue from (0 when there are no more).
func (e *Engine) Receipts(p id.Program, from uint64, limit int) ([]consensus.CertifiedReceipt, uint64, error) {
	if _, err := e.manifest(p); err != nil {
		return nil, 0, err
	}
	var out []consensus.CertifiedReceipt
	next, err := e.scan(nsReceipt, p, from, limit, func(_ uint64, v []byte) error {
		agg, err := consensus.DecodeCertifiedReceipt(v)
		if err != nil {
			return fmt.Errorf("%w: %v", ErrCorrupt, err)
		}
		out = append(out, *agg)
		return nil
	})
	if err != nil {
		return nil, 0, fmt.Errorf("list receipts of %s: %w", p, err)
	}
	return out, next, nil
}

// Transitions returns up to limit committed transitions of p from height
// from (≥ 1) upward, with their writes and outputs when stored, and the
// height to continue from (0 when there are no more). It serves state sync:
// a peer applies them with ApplyFinalized.
func (e *Engine) Transitions(p id.Program, from uint64, limit int) ([]*Transition, uint64, error) {
	if _, err := e.manifest(p); err != nil {
		return nil, 0, err
	}
	var hs []uint64
	next, err := e.scan(nsReceipt, p, from, limit, func(h uint64, _ []byte) error {
		hs = append(hs, h)
		return nil
	})
	if err != nil {
		return nil, 0, fmt.Errorf("list transitions of %s: %w", p, err)
	}
	out := make([]*Transition, len(hs))
	for i, h := range hs {
		rec, err := e.record(p, h, true)
		if err != nil {
			return nil, 0, err
		}
		out[i] = &rec.Transition
	}
	return out, next, nil
}

// scan calls fn for the values of ns keys of p at heights ≥ from, at most
// limit of them (clamped to 1..MaxPage), and returns the next height.
func (e *Engine) scan(ns string, p id.Program, from uint64, limit int, fn func(h uint64, v []byte) error) (uint64, error) {
	limit = min(max(limit, 1), MaxPage)
	upper := nextID(p)
	it, err := e.db.NewIter(&pebble.IterOptions{
		LowerBound: heightKey(ns, p, max(from, 1)),
		UpperBound: key(ns, upper[:]),
	})
	if err != nil {
		return 0, err
	}
	defer it.Close()
	n := 0
	for ok := it.First(); ok; ok = it.Next() {
		k := it.Key()
		h := beUint(k[len(k)-8:])
		if n == limit {
			return h, nil
		}
		v, err := it.ValueAndErr()
		if err != nil {
			return 0, err
		}
		if err := fn(h, v); err != nil {
			return 0, err
		}
		n++
	}
	return 0, it.Error()
}

// nextID returns the id after p in byte order (wrapping at the top, where
// no program id can be in practice).
func nextID(p id.Program) [id.Size]byte {
	n := [id.Size]byte(p)
	for i := id.Size - 1; i >= 0; i-- {
		n[i]++
		if n[i] != 0 {
			break
		}
	}
	return n
}

func beUint(b []byte) uint64 {
	var h uint64
	for _, c := range b {
		h = h<<8 | uint64(c)
	}
	return h
}

// RootAt returns p's state root after height h (h = 0: the initial root).
func (e *Engine) RootAt(p id.Program, h uint64) (id.Hash, error) {
	m, err := e.manifest(p)
	if err != nil {
		return id.Hash{}, err
	}
	if h == 0 {
		return m.Body.InitialRoot, nil
	}
	rec, err := e.record(p, h, false)
	if err != nil {
		return id.Hash{}, err
	}
	return rec.Receipt.Receipt.StateRootOut, nil
}

// Prove returns a proof for key in p's state under root.
func (e *Engine) Prove(p id.Program, root id.Hash, k []byte) (*state.Proof, error) {
	if _, err := e.manifest(p); err != nil {
		return nil, err
	}
	pr, err := e.state.Prove(p, root, k)
	if err != nil {
		return nil, fmt.Errorf("prove %s: %w", p, err)
	}
	return pr, nil
}
