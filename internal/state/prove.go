package state

import (
	"bytes"
	"fmt"

	"github.com/onvm-network/onvm/internal/id"
	"github.com/onvm-network/onvm/internal/kv"
)

// Prove returns a membership or non-membership proof for key in p's state
// under root, which may be any root p has committed and not pruned
// (ErrUnknownRoot otherwise). The siblings are read from the stored records;
// only a non-membership proof hashes, at most 256 nodes, to get the sibling
// where the key's path leaves an existing key's.
func (s *Store) Prove(p id.Program, root id.Hash, key []byte) (*Proof, error) {
	pr, err := s.prove(p, root, key)
	if err != nil {
		return nil, fmt.Errorf("prove %s root %s key %x: %w", p, root, key, err)
	}
	return pr, nil
}

func (s *Store) prove(p id.Program, root id.Hash, key []byte) (*Proof, error) {
	pr := &Proof{Root: root, Key: bytes.Clone(key)}
	if pr.Key == nil {
		pr.Key = []byte{}
	}
	for i := range pr.Siblings {
		pr.Siblings[i] = EmptyRoot
	}
	if root == EmptyRoot {
		return pr, nil
	}
	if _, ok, err := kv.Get(s.db, rootKey(p, &root)); err != nil {
		return nil, err
	} else if !ok {
		return nil, ErrUnknownRoot
	}
	rec, err := s.load(s.db, p, &root)
	if err != nil {
		return nil, err
	}
	kh := keyHash(key)
	for {
		if cp := commonPrefix(&kh, &rec.path); cp < rec.split {
			// The key's path leaves this subtree's at depth cp: the
			// sibling there is the whole subtree, seen from depth cp+1.
			pr.Siblings[Depth-1-cp] = chain(rec.baseHash(), rec.split, cp+1, &rec.path)
			return pr, nil
		}
		if rec.leaf() {
			v, ok, err := kv.Get(s.db, leafKey(p, &rec.lh))
			if err != nil {
				return nil, err
			}
			if !ok {
				return nil, fmt.Errorf("%w: no leaf %s", ErrCorrupt, rec.lh)
			}
			k, value, err := decodeLeafValue(v)
			if err != nil {
				return nil, err
			}
			if !bytes.Equal(k, key) {
				return nil, fmt.Errorf("%w: leaf %s holds key %x", ErrCorrupt, rec.lh, k)
			}
			pr.Present, pr.Value = true, value
			return pr, nil
		}
		side := bit(&kh, rec.split)
		pr.Siblings[Depth-1-rec.split] = rec.kids[1-side].h
		c := &rec.kids[side]
		if c.leaf {
			rec = leafOf(&c.kh, &c.lh)
		} else if rec, err = s.load(s.db, p, &c.h); err != nil {
			return nil, err
		}
	}
}
