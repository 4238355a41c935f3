package dag

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"

	"github.com/cockroachdb/pebble/v2"

	"github.com/onvm-network/onvm/internal/codec"
	"github.com/onvm-network/onvm/internal/id"
)

// The outbox holds the node's own operations between the commit that
// produced them and the vertex that carries them. A component stages its
// outgoing operation in the same pebble batch as the commit it reports
// (Outbox.Stage), so the operation is durable exactly when what it reports
// is: a crash after the commit can no longer lose the publication, and no
// recovery pass is needed. ProposeNext takes entries in staging order and
// deletes them in the batch that stores the vertex carrying them, so each
// entry travels in exactly one of the node's vertices.

// outboxEntry is the stored form of a staged operation.
type outboxEntry struct {
	Kind Kind   `cbor:"1,keyasint"`
	Body []byte `cbor:"2,keyasint"`
}

// Outbox stages operations for the node's next vertices. It is safe for
// concurrent use. Components that commit what they publish get it at
// construction (NewOutbox), before the DAG whose handlers need them opens;
// the DAG drains the same outbox (Config.Outbox).
type Outbox struct {
	db    *pebble.DB
	kinds map[Kind]KindSpec
	self  id.Node
	mu    sync.Mutex
	next  uint64 // sequence of the next staged entry
}

// NewOutbox loads the outbox stored in db, whose operations are checked
// against reg's kinds as operations of a vertex by self. The next
// sequence follows the last stored entry.
func NewOutbox(db *pebble.DB, reg *Registry, self id.Node) (*Outbox, error) {
	if db == nil || reg == nil {
		return nil, errors.New("open outbox: DB and Registry are required")
	}
	o := &Outbox{db: db, kinds: reg.clone(), self: self, next: 1}
	it, err := db.NewIter(&pebble.IterOptions{LowerBound: pfxOutbox, UpperBound: upper(pfxOutbox)})
	if err != nil {
		return nil, fmt.Errorf("open outbox: %w", err)
	}
	defer func() { _ = it.Close() }()
	if it.Last() {
		k := it.Key()
		if len(k) != len(pfxOutbox)+8 {
			return nil, fmt.Errorf("open outbox: bad key %x", k)
		}
		o.next = binary.BigEndian.Uint64(k[len(pfxOutbox):]) + 1
	}
	return o, it.Error()
}

// Stage adds op to b as the node's next outgoing operation after checking
// it statelessly (its kind's validator, its size): an operation that could
// never be proposed is refused here, before the caller commits. The entry
// exists once b commits; entries of batches that never commit leave only a
// gap in the sequence.
func (o *Outbox) Stage(b *pebble.Batch, op Op) error {
	if err := checkLocal(o.kinds, o.self, op); err != nil {
		return fmt.Errorf("stage operation: %w", err)
	}
	v, err := codec.Marshal(outboxEntry(op))
	if err != nil {
		return fmt.Errorf("stage operation: %w", err)
	}
	o.mu.Lock()
	seq := o.next
	o.next++
	o.mu.Unlock()
	if err := b.Set(key(pfxOutbox, be64(seq)), v, nil); err != nil {
		return fmt.Errorf("stage operation: %w", err)
	}
	return nil
}

// Len returns how many operations wait in the outbox.
func (o *Outbox) Len() (int, error) {
	n := 0
	err := scan(o.db, pfxOutbox, upper(pfxOutbox), func(_, _ []byte) (bool, error) {
		n++
		return true, nil
	})
	return n, err
}

// Outbox returns the DAG's outbox.
func (d *DAG) Outbox() *Outbox { return d.outbox }

// ProposeNext makes, signs, stores and applies the node's next vertex from
// the oldest outbox entries (as many as fit one vertex), deleting them in
// the vertex's commit batch, and returns it for announcement; nil when the
// outbox is empty. Entries passed their validator when staged; one that
// no longer decodes to an operation of a registered kind within the size
// limit (a damaged record, a kind an upgrade removed) is dropped and
// reported in dropped.
func (d *DAG) ProposeNext(ctx context.Context) (v *Vertex, dropped []error, err error) {
	if d.key == nil {
		return nil, nil, ErrNoKey
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.redrive(ctx); err != nil {
		return nil, nil, err
	}
	var (
		ops   []Op
		taken [][]byte
		bad   [][]byte
		size  int
	)
	err = scan(d.db, pfxOutbox, upper(pfxOutbox), func(k, val []byte) (bool, error) {
		k = bytes.Clone(k) // valid only during the call
		var e outboxEntry
		op := Op{}
		if err := codec.Unmarshal(val, &e); err == nil {
			op = Op(e)
		}
		if _, err := d.checkShape(op); err != nil {
			dropped = append(dropped, fmt.Errorf("outbox entry %x: %w", k[len(pfxOutbox):], err))
			bad = append(bad, k)
			return true, nil
		}
		s := len(op.Body) + opOverhead
		if len(ops) > 0 && (len(ops) == MaxOps || size+s > opBudget) {
			return false, nil
		}
		ops, taken, size = append(ops, op), append(taken, k), size+s
		return true, nil
	})
	if err != nil {
		return nil, dropped, fmt.Errorf("propose from outbox: %w", err)
	}
	for _, k := range bad {
		if err := d.db.Delete(k, pebble.NoSync); err != nil {
			return nil, dropped, fmt.Errorf("propose from outbox: %w", err)
		}
	}
	if len(ops) == 0 {
		return nil, dropped, nil
	}
	v, err = d.proposeLocked(ctx, ops, taken)
	return v, dropped, err
}
