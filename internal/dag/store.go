package dag

import (
	"encoding/binary"
	"fmt"

	"github.com/cockroachdb/pebble/v2"

	"github.com/onvm-network/onvm/internal/id"
)

// Key layout under the "d/" prefix of the node's pebble database. Integers
// are big-endian so that keys sort numerically.
//
//	d/v/<id>              → canonical vertex bytes
//	d/m/<id>              → author ‖ seq ‖ pos (vertex metadata)
//	d/a/<author><seq>     → id of the first vertex accepted in that slot
//	d/e/<author><seq><id> → ∅, every vertex of an equivocated slot
//	d/f/<author>          → first equivocated seq ‖ detected-at (Unix ms)
//	d/o/<pos>             → id ‖ author ‖ seq, in local acceptance order
//	d/h/<id>              → ∅, current tips
//	d/c/<author>          → highest accepted seq (the version vector)
//	d/u/<pos>             → cursor: operations of the vertex at pos applied so far
//
// pos numbers accepted vertices 1, 2, … in the order this node accepted
// them, which is a causal order; it is local and never leaves the node
// except as an opaque sync cursor.
var (
	pfxVertex = []byte("d/v/")
	pfxMeta   = []byte("d/m/")
	pfxAuthor = []byte("d/a/")
	pfxEquiv  = []byte("d/e/")
	pfxFlag   = []byte("d/f/")
	pfxOrder  = []byte("d/o/")
	pfxHead   = []byte("d/h/")
	pfxClock  = []byte("d/c/")
	pfxUnappl = []byte("d/u/")
	pfxOutbox = []byte("d/q/") // seq → encoded operation awaiting proposal
)

func key(prefix []byte, parts ...[]byte) []byte {
	n := len(prefix)
	for _, p := range parts {
		n += len(p)
	}
	k := make([]byte, 0, n)
	k = append(k, prefix...)
	for _, p := range parts {
		k = append(k, p...)
	}
	return k
}

func be64(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }

// upper returns the smallest key greater than every key with prefix p.
func upper(p []byte) []byte {
	u := append([]byte(nil), p...)
	for i := len(u) - 1; i >= 0; i-- {
		if u[i] < 0xff {
			u[i]++
			return u[:i+1]
		}
	}
	return nil
}

type meta struct {
	author id.Node
	seq    uint64
	pos    uint64
}

func (m meta) encode() []byte {
	b := make([]byte, 0, 48)
	b = append(b, m.author[:]...)
	b = binary.BigEndian.AppendUint64(b, m.seq)
	return binary.BigEndian.AppendUint64(b, m.pos)
}

func decodeMeta(b []byte) (meta, error) {
	if len(b) != 48 {
		return meta{}, fmt.Errorf("dag store: meta record of %d bytes", len(b))
	}
	var m meta
	copy(m.author[:], b)
	m.seq = binary.BigEndian.Uint64(b[32:])
	m.pos = binary.BigEndian.Uint64(b[40:])
	return m, nil
}

// orderRec is a d/o/ value.
type orderRec struct {
	id     id.Hash
	author id.Node
	seq    uint64
}

func (o orderRec) encode() []byte {
	b := make([]byte, 0, 72)
	b = append(b, o.id[:]...)
	b = append(b, o.author[:]...)
	return binary.BigEndian.AppendUint64(b, o.seq)
}

func decodeOrder(b []byte) (orderRec, error) {
	if len(b) != 72 {
		return orderRec{}, fmt.Errorf("dag store: order record of %d bytes", len(b))
	}
	var o orderRec
	copy(o.id[:], b)
	copy(o.author[:], b[32:])
	o.seq = binary.BigEndian.Uint64(b[64:])
	return o, nil
}

// scan calls fn for each key/value under prefix p in order until fn
// returns false. k and v are only valid during the call.
func scan(r pebble.Reader, lo, hi []byte, fn func(k, v []byte) (bool, error)) error {
	it, err := r.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		return err
	}
	for ok := it.First(); ok; ok = it.Next() {
		v, err := it.ValueAndErr()
		if err != nil {
			_ = it.Close()
			return err
		}
		more, err := fn(it.Key(), v)
		if err != nil {
			_ = it.Close()
			return err
		}
		if !more {
			break
		}
	}
	return it.Close()
}

// lastKey returns the greatest key under prefix p, or nil.
func lastKey(r pebble.Reader, p []byte) ([]byte, error) {
	it, err := r.NewIter(&pebble.IterOptions{LowerBound: p, UpperBound: upper(p)})
	if err != nil {
		return nil, err
	}
	var k []byte
	if it.Last() {
		k = append([]byte(nil), it.Key()...)
	}
	return k, it.Close()
}
