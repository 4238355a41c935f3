package dag

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"

	"github.com/onvm-network/onvm/internal/codec"
	"github.com/onvm-network/onvm/internal/id"
	"github.com/onvm-network/onvm/internal/kv"
)

// Has reports whether vertex h is accepted.
func (d *DAG) Has(h id.Hash) (bool, error) {
	if d.metas.Contains(h) {
		return true, nil
	}
	_, ok, err := kv.Get(d.db, key(pfxMeta, h[:]))
	return ok, err
}

func (d *DAG) metaOf(h id.Hash) (meta, error) {
	if m, ok := d.metas.Get(h); ok {
		return m, nil
	}
	v, ok, err := kv.Get(d.db, key(pfxMeta, h[:]))
	if err != nil {
		return meta{}, err
	}
	if !ok {
		return meta{}, fmt.Errorf("vertex %s: %w", h, ErrNotFound)
	}
	return decodeMeta(v)
}

// GetRaw returns the canonical bytes of accepted vertex h.
func (d *DAG) GetRaw(h id.Hash) ([]byte, error) {
	v, ok, err := kv.Get(d.db, key(pfxVertex, h[:]))
	if err != nil {
		return nil, fmt.Errorf("get vertex %s: %w", h, err)
	}
	if !ok {
		return nil, fmt.Errorf("get vertex %s: %w", h, ErrNotFound)
	}
	return v, nil
}

// Get returns accepted vertex h.
func (d *DAG) Get(h id.Hash) (*Vertex, error) {
	raw, err := d.GetRaw(h)
	if err != nil {
		return nil, err
	}
	return decodeStored(raw)
}

// decodeStored decodes bytes this node stored after verifying them.
func decodeStored(raw []byte) (*Vertex, error) {
	var v Vertex
	if err := codec.Unmarshal(raw, &v); err != nil {
		return nil, fmt.Errorf("stored vertex: %w", err)
	}
	v.raw, v.vid, v.verified = raw, id.Sum(raw), true
	return &v, nil
}

// Len returns how many vertices are accepted.
func (d *DAG) Len() uint64 { return d.nextPos.Load() - 1 }

// Heads returns the current tips, sorted.
func (d *DAG) Heads() []id.Hash {
	d.view.RLock()
	out := make([]id.Hash, 0, len(d.heads))
	for h := range d.heads {
		out = append(out, h)
	}
	d.view.RUnlock()
	slices.SortFunc(out, func(a, b id.Hash) int { return bytes.Compare(a[:], b[:]) })
	return out
}

// VersionVector returns a copy of the version vector.
func (d *DAG) VersionVector() VersionVector {
	d.view.RLock()
	defer d.view.RUnlock()
	return d.vv.Clone()
}

// Flagged returns the authors caught equivocating, sorted by author.
func (d *DAG) Flagged() []Flag {
	d.view.RLock()
	out := make([]Flag, 0, len(d.flagged))
	for _, f := range d.flagged {
		out = append(out, f)
	}
	d.view.RUnlock()
	slices.SortFunc(out, func(a, b Flag) int { return bytes.Compare(a.Author[:], b.Author[:]) })
	return out
}

// Equivocation is the evidence of one equivocated slot: every vertex the
// author signed with that sequence.
type Equivocation struct {
	Author   id.Node   `json:"author"`
	Seq      uint64    `json:"seq"`
	Vertices []id.Hash `json:"vertices"`
}

// Equivocations returns up to limit equivocated slots, by author then
// sequence.
func (d *DAG) Equivocations(limit int) ([]Equivocation, error) {
	var out []Equivocation
	err := scan(d.db, pfxEquiv, upper(pfxEquiv), func(k, _ []byte) (bool, error) {
		k = k[len(pfxEquiv):]
		if len(k) != 2*id.Size+8 {
			return false, fmt.Errorf("bad equivocation record")
		}
		a, s, h := id.Node(k[:32]), binary.BigEndian.Uint64(k[32:40]), id.Hash(k[40:])
		if n := len(out); n > 0 && out[n-1].Author == a && out[n-1].Seq == s {
			out[n-1].Vertices = append(out[n-1].Vertices, h)
			return true, nil
		}
		if len(out) >= limit {
			return false, nil
		}
		out = append(out, Equivocation{Author: a, Seq: s, Vertices: []id.Hash{h}})
		return true, nil
	})
	if err != nil {
		return nil, fmt.Errorf("list equivocations: %w", err)
	}
	return out, nil
}

// ByAuthor returns up to limit vertices of author with sequence ≥ from, in
// sequence order; an equivocated slot yields all its vertices.
func (d *DAG) ByAuthor(author id.Node, from uint64, limit int) ([]*Vertex, error) {
	var ids []id.Hash
	lo := key(pfxAuthor, author[:], be64(from))
	err := scan(d.db, lo, upper(key(pfxAuthor, author[:])), func(k, v []byte) (bool, error) {
		if len(ids) >= limit {
			return false, nil
		}
		ids = append(ids, id.Hash(v))
		seq := binary.BigEndian.Uint64(k[len(pfxAuthor)+id.Size:])
		return true, scan(d.db, key(pfxEquiv, author[:], be64(seq)), upper(key(pfxEquiv, author[:], be64(seq))),
			func(ek, _ []byte) (bool, error) {
				if h := id.Hash(ek[len(ek)-id.Size:]); h != id.Hash(v) {
					ids = append(ids, h)
				}
				return true, nil
			})
	})
	if err != nil {
		return nil, fmt.Errorf("vertices of %s: %w", author, err)
	}
	out := make([]*Vertex, 0, len(ids))
	for _, h := range ids {
		v, err := d.Get(h)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// Missing returns up to limit ids of parents that buffered vertices wait
// for: what the network layer should fetch by id.
func (d *DAG) Missing(limit int) []id.Hash {
	d.pmu.Lock()
	defer d.pmu.Unlock()
	return d.pending.missing(limit)
}

// StartPos returns the acceptance position from which a peer whose version
// vector is want should be sent vertices: the earliest position holding a
// vertex it lacks (or Len()+1 if it lacks none). The sync server uses it.
func (d *DAG) StartPos(want VersionVector) (uint64, error) {
	start := d.nextPos.Load()
	d.view.RLock()
	var need []VVEntry
	for a, s := range d.vv {
		if want[a] < s {
			need = append(need, VVEntry{Author: a, Seq: want[a] + 1})
		}
	}
	d.view.RUnlock()
	for _, e := range need {
		h, ok, err := kv.Get(d.db, key(pfxAuthor, e.Author[:], be64(e.Seq)))
		if err != nil {
			return 0, err
		}
		if !ok {
			continue
		}
		m, err := d.metaOf(id.Hash(h))
		if err != nil {
			return 0, err
		}
		start = min(start, m.pos)
	}
	return start, nil
}

// ScanLimits bounds one Scan; zero fields mean 1024 vertices, 8 MiB and
// 65536 records.
type ScanLimits struct {
	Count int // vertices returned
	Bytes int // their total size; at least one vertex is always returned
	Scan  int // acceptance records examined
}

// Scan returns, in acceptance order (a causal order) from position from,
// the vertices a peer with version vector want lacks, within limits. next
// is where to continue; done reports that the log was exhausted.
func (d *DAG) Scan(from uint64, want VersionVector, lim ScanLimits) (raws [][]byte, next uint64, done bool, err error) {
	if from == 0 {
		from = 1
	}
	if lim.Count <= 0 {
		lim.Count = 1024
	}
	if lim.Bytes <= 0 {
		lim.Bytes = 8 << 20
	}
	if lim.Scan <= 0 {
		lim.Scan = 1 << 16
	}
	next, done = from, true
	size, examined := 0, 0
	err = scan(d.db, key(pfxOrder, be64(from)), upper(pfxOrder), func(k, v []byte) (bool, error) {
		if examined >= lim.Scan || len(raws) >= lim.Count {
			done = false
			return false, nil
		}
		o, err := decodeOrder(v)
		if err != nil {
			return false, err
		}
		pos := binary.BigEndian.Uint64(k[len(pfxOrder):])
		if o.seq > want[o.author] {
			raw, err := d.GetRaw(o.id)
			if err != nil {
				return false, err
			}
			if len(raws) > 0 && size+len(raw) > lim.Bytes {
				done = false
				return false, nil
			}
			raws = append(raws, raw)
			size += len(raw)
		}
		examined++
		next = pos + 1
		return true, nil
	})
	return raws, next, done, err
}
