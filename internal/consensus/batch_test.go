package consensus

import (
	"encoding/binary"
	"errors"
	"testing"

	"github.com/onvm-network/onvm/internal/id"
)

func receiptIDs(n int) []id.Hash {
	ids := make([]id.Hash, n)
	for i := range ids {
		ids[i] = id.Sum(binary.BigEndian.AppendUint32(nil, uint32(i)))
	}
	return ids
}

func TestBatchPathsLeadToTheRoot(t *testing.T) {
	for n := 1; n <= 33; n++ {
		ids := receiptIDs(n)
		root := BatchRoot(ids)
		for i := range n {
			path := BatchPath(ids, i)
			got, ok := rootFromPath(ids[i], i, n, path)
			if !ok || got != root {
				t.Fatalf("n=%d i=%d: path does not lead to the root", n, i)
			}
			// Another position, another count or another receipt does not.
			if got, ok := rootFromPath(ids[i], (i+1)%n, n, path); n > 1 && ok && got == root {
				t.Fatalf("n=%d: receipt %d proves position %d", n, i, (i+1)%n)
			}
			if got, ok := rootFromPath(ids[(i+1)%n], i, n, path); n > 1 && ok && got == root {
				t.Fatalf("n=%d: path of %d proves receipt %d", n, i, (i+1)%n)
			}
		}
	}
	if BatchRoot(receiptIDs(1)) == receiptIDs(1)[0] {
		t.Fatal("a one-receipt root is the receipt id: leaves are not domain separated")
	}
}

// batchOf returns n receipts of p from height first on, and their ids.
func batchOf(p id.Program, first uint64, n int) ([]Receipt, []id.Hash) {
	var receipts []Receipt
	var ids []id.Hash
	for h := first; h < first+uint64(n); h++ {
		r := sampleReceipt(p)
		r.Height = h
		receipts = append(receipts, r)
		ids = append(ids, r.ID())
	}
	return receipts, ids
}

func TestCertifiedReceipt(t *testing.T) {
	p := id.ProgramOf([]byte("prog"), nil)
	c, keys := committeeOf(t, p, 7)
	receipts, ids := batchOf(p, 10, 5)
	_, q := quorum(t, &c, keys, Ballot{Program: p, Height: 4, Round: 0, Step: StepPrecommit, Value: BatchRoot(ids)}, 5)
	cr := CertifiedReceipt{Receipt: receipts[3], Index: 3, Count: 5, Path: BatchPath(ids, 3), Certificate: *q}
	if err := cr.Verify(&c); err != nil {
		t.Fatalf("a certified receipt: %v", err)
	}
	for _, tc := range []struct {
		name   string
		mutate func(*CertifiedReceipt)
	}{
		{"altered receipt", func(r *CertifiedReceipt) { r.Receipt.FuelUsed++ }},
		{"another position", func(r *CertifiedReceipt) { r.Index = 2 }},
		{"another count", func(r *CertifiedReceipt) { r.Count = 9 }},
		{"short path", func(r *CertifiedReceipt) { r.Path = r.Path[1:] }},
		{"another epoch", func(r *CertifiedReceipt) { r.Receipt.Epoch = 1 }},
		{"a weak certificate", func(r *CertifiedReceipt) { r.Certificate.Signers = []byte{0b1} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bad := cr
			bad.Path = append([]id.Hash(nil), cr.Path...)
			tc.mutate(&bad)
			if err := bad.Verify(&c); !errors.Is(err, ErrInvalidReceipt) && !errors.Is(err, ErrNoQuorum) {
				t.Fatalf("Verify: %v", err)
			}
		})
	}
}

// BenchmarkVerifyCertifiedReceipt measures offline verification of one
// receipt of a batch of 64 certified by a seven-member committee (target
// ≤ 2 ms), against one ballot signature in the same run.
func BenchmarkVerifyCertifiedReceipt(b *testing.B) {
	p := id.ProgramOf([]byte("prog"), nil)
	c, keys := committeeOf(b, p, 7)
	receipts, ids := batchOf(p, 1, 64)
	votes, q := quorum(b, &c, keys, Ballot{Program: p, Height: 1, Step: StepPrecommit, Value: BatchRoot(ids)}, 5)
	cr := CertifiedReceipt{Receipt: receipts[37], Index: 37, Count: 64, Path: BatchPath(ids, 37), Certificate: *q}
	againstOneBallot(b, &c, votes[0], "receipt-k7-batch64", func() error { return cr.Verify(&c) })
}
