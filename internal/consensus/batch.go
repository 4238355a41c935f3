package consensus

import (
	"fmt"

	"github.com/onvm-network/onvm/internal/codec"
	"github.com/onvm-network/onvm/internal/id"
)

// A committee decides batches of transitions: the value of a height is the
// root of a binary Merkle tree over the ids of the batch's receipts, in
// order. A receipt then proves itself with the batch's certificate and its
// path to the root — one pairing check and a few hashes — without the
// other receipts of the batch.

// MaxBatch bounds the receipts of one batch, and MaxPath the length of a
// receipt's path to its batch root (log2 MaxBatch).
const (
	MaxBatch = 1 << 12
	MaxPath  = 12
)

// Domain separation of the batch tree's leaves and inner nodes, so that a
// leaf can never pass for a node.
var (
	batchLeaf = []byte("ONVM:BATCH-LEAF:V1")
	batchNode = []byte("ONVM:BATCH-NODE:V1")
)

// BatchRoot returns the root of the batch of receipts with these ids (at
// least one). A level's odd last node is carried up unchanged.
func BatchRoot(receipts []id.Hash) id.Hash {
	levels := batchTree(receipts)
	return levels[len(levels)-1][0]
}

// BatchPath returns the siblings on the path from receipt i of the batch to
// its root, bottom up (levels where the node has no sibling are skipped).
func BatchPath(receipts []id.Hash, i int) []id.Hash { return pathIn(batchTree(receipts), i) }

// batchTree returns the levels of the batch tree over the receipt ids, from
// the leaves up to the root.
func batchTree(receipts []id.Hash) [][]id.Hash {
	level := make([]id.Hash, len(receipts))
	for i := range receipts {
		level[i] = id.Sum(batchLeaf, receipts[i][:])
	}
	levels := [][]id.Hash{level}
	for len(level) > 1 {
		next := make([]id.Hash, 0, (len(level)+1)/2)
		for i := 0; i < len(level); i += 2 {
			if i+1 == len(level) {
				next = append(next, level[i])
				continue
			}
			next = append(next, id.Sum(batchNode, level[i][:], level[i+1][:]))
		}
		levels = append(levels, next)
		level = next
	}
	return levels
}

// pathIn returns leaf i's siblings in the tree's levels, bottom up.
func pathIn(levels [][]id.Hash, i int) []id.Hash {
	var path []id.Hash
	for _, level := range levels[:len(levels)-1] {
		if sib := i ^ 1; sib < len(level) {
			path = append(path, level[sib])
		}
		i /= 2
	}
	return path
}

// rootFromPath recomputes the root of a batch of n receipts from receipt i's
// id and path, or reports that the path does not fit the position.
func rootFromPath(receipt id.Hash, i, n int, path []id.Hash) (id.Hash, bool) {
	if n < 1 || n > MaxBatch || i < 0 || i >= n {
		return id.Hash{}, false
	}
	h := id.Sum(batchLeaf, receipt[:])
	for n > 1 {
		if sib := i ^ 1; sib < n {
			if len(path) == 0 {
				return id.Hash{}, false
			}
			if i%2 == 0 {
				h = id.Sum(batchNode, h[:], path[0][:])
			} else {
				h = id.Sum(batchNode, path[0][:], h[:])
			}
			path = path[1:]
		}
		i, n = i/2, (n+1)/2
	}
	return h, len(path) == 0
}

// CertifiedReceipt is a receipt with the proof that its committee decided
// it: the certificate of its batch and its path in the batch tree.
type CertifiedReceipt struct {
	Receipt     Receipt     `cbor:"1,keyasint"`
	Index       uint32      `cbor:"2,keyasint"` // position in the batch
	Count       uint32      `cbor:"3,keyasint"` // receipts in the batch
	Path        []id.Hash   `cbor:"4,keyasint"`
	Certificate Certificate `cbor:"5,keyasint"`
}

// Verify checks r against committee c without re-executing anything: the
// receipt is of c's program and epoch, its path leads to the certified
// value, and the certificate holds the signatures of a quorum of c.
func (r *CertifiedReceipt) Verify(c *Committee) error {
	rc := &r.Receipt
	q := &r.Certificate
	switch {
	case rc.Program != q.Ballot.Program || rc.Epoch != q.Ballot.Epoch:
		return fmt.Errorf("%w: receipt of %s epoch %d, certificate of %s epoch %d", ErrInvalidReceipt, rc.Program, rc.Epoch, q.Ballot.Program, q.Ballot.Epoch)
	case rc.Height == 0:
		return fmt.Errorf("%w: height 0", ErrInvalidReceipt)
	case len(r.Path) > MaxPath:
		return fmt.Errorf("%w: path of %d hashes", ErrInvalidReceipt, len(r.Path))
	}
	root, ok := rootFromPath(rc.ID(), int(r.Index), int(r.Count), r.Path)
	if !ok || root != q.Ballot.Value {
		return fmt.Errorf("%w: receipt is not in the certified batch", ErrInvalidReceipt)
	}
	return q.Verify(c)
}

// Encode returns the canonical encoding.
func (r *CertifiedReceipt) Encode() []byte { return codec.MustMarshal(r) }

// CertifiedBatch returns the receipts of a decided batch, in order, each
// with its path to the batch root that cert certifies.
func CertifiedBatch(receipts []Receipt, cert *Certificate) []CertifiedReceipt {
	ids := make([]id.Hash, len(receipts))
	for i := range receipts {
		ids[i] = receipts[i].ID()
	}
	levels := batchTree(ids)
	out := make([]CertifiedReceipt, len(receipts))
	for i := range receipts {
		out[i] = CertifiedReceipt{Receipt: receipts[i], Index: uint32(i), Count: uint32(len(receipts)), Path: pathIn(levels, i), Certificate: *cert}
	}
	return out
}

// DecodeCertifiedReceipt strictly decodes a certified receipt and checks
// its certificate's shape.
func DecodeCertifiedReceipt(b []byte) (*CertifiedReceipt, error) {
	r, err := decode[CertifiedReceipt](b)
	if err != nil {
		return nil, err
	}
	return r, r.Check()
}

// Check checks r's shape — its position in the batch, its path's length,
// its certificate's ballot — for decoders of messages that carry one.
func (r *CertifiedReceipt) Check() error {
	if len(r.Path) > MaxPath || r.Count == 0 || r.Count > MaxBatch || r.Index >= r.Count {
		return fmt.Errorf("%w: position %d of %d with a path of %d", ErrInvalidReceipt, r.Index, r.Count, len(r.Path))
	}
	return r.Certificate.Ballot.Validate()
}
