package state

import (
	"bytes"
	"fmt"

	"github.com/onvm-network/onvm/internal/id"
)

// Prove returns a membership or non-membership proof for key in p's state
// under root, which may be any root p has committed and not pruned
// (ErrUnknownRoot otherwise). A membership proof is read from the stored
// records without hashing; a non-membership proof hashes at most 256 nodes
// (the sibling where the key's path leaves an existing one).
func (s *Store) Prove(p id.Program, root id.Hash, key []byte) (*Proof, error) {
	if root != EmptyRoot {
		_, ok, err := get(s.db, rootKey(p, &root))
		if err != nil {
			return nil, fmt.Errorf("prove %s root %s: %w", p, root, err)
		}
		if !ok {
			return nil, fmt.Errorf("prove %s root %s: %w", p, root, ErrUnknownRoot)
		}
	}
	pr := &Proof{Root: root, Key: bytes.Clone(key)}
	if pr.Key == nil {
		pr.Key = []byte{}
	}
	for i := range pr.Siblings {
		pr.Siblings[i] = EmptyRoot
	}
	kh := keyHash(key)
	for h := root; h != EmptyRoot; {
		rec, err := s.load(s.db, p, &h)
		if err != nil {
			return nil, fmt.Errorf("prove %s root %s: %w", p, root, err)
		}
		if cp := commonPrefix(&kh, &rec.path); cp < rec.split {
			// The key's path leaves this subtree's at depth cp: the
			// sibling there is the whole subtree, seen from depth cp+1.
			pr.Siblings[Depth-1-cp] = chain(rec.baseHash(), rec.split, cp+1, &rec.path)
			return pr, nil
		}
		if rec.leaf() {
			pr.Present, pr.Value = true, rec.value
			return pr, nil
		}
		if bit(&kh, rec.split) == 0 {
			pr.Siblings[Depth-1-rec.split], h = rec.right, rec.left
		} else {
			pr.Siblings[Depth-1-rec.split], h = rec.left, rec.right
		}
	}
	return pr, nil
}
