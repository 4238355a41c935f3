package client

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/onvm-network/onvm/client/wire"
	"github.com/onvm-network/onvm/internal/bls"
	"github.com/onvm-network/onvm/internal/consensus"
	"github.com/onvm-network/onvm/internal/id"
)

// signedReceipt returns a receipt signed by a committee of one, as the
// node's GET /receipts/{id} and GET /programs/{id}/committee show them.
func signedReceipt(t *testing.T) (*Receipt, *Committee) {
	t.Helper()
	sk, err := bls.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p := id.ProgramOf([]byte("code"), []byte("salt"))
	c := consensus.Committee{Program: p, Members: []consensus.Member{{Node: id.Node{7}, Weight: 1, BLSKey: sk.PublicKey()}}, Threshold: 1}
	r := consensus.Receipt{Program: p, Height: 3, StateRootIn: id.Sum([]byte("in")), StateRootOut: id.Sum([]byte("out")),
		FuelUsed: 42, Timestamp: 1700000000000, Executor: id.Node{7}}
	b := consensus.Ballot{Program: p, Height: 3, Step: consensus.StepPrecommit, Value: consensus.BatchRoot([]id.Hash{r.ID()})}
	q, err := consensus.Certify(&c, b, []consensus.SignedBallot{consensus.SignBallot(sk, 0, b)})
	if err != nil {
		t.Fatal(err)
	}
	a := consensus.CertifiedBatch([]consensus.Receipt{r}, q)[0]
	agg, err := c.AggregateKey()
	if err != nil {
		t.Fatal(err)
	}
	return &Receipt{
			ReceiptID: r.ID().String(), ProgramID: p.String(), Height: r.Height, StateRootIn: r.StateRootIn.String(),
			StateRootOut: r.StateRootOut.String(), InputHash: r.InputHash.String(), RequestID: r.RequestID.String(),
			Fuel: r.FuelUsed, GasUsed: r.FuelUsed, WriteDigest: r.WriteDigest.String(), OutputHash: r.OutputHash.String(),
			CodeHash: r.CodeHash.String(), WasmEnvHash: r.EnvHash.String(), TimestampMS: r.Timestamp,
			Executor: r.Executor.String(), Epoch: r.Epoch, SignerBitmap: hex.EncodeToString(q.Signers),
			Batch:              wire.Batch{Height: 3, Root: b.Value.String(), Count: 1, Path: []string{}},
			AggregateSignature: q.Signature.String(), CBORBase64: base64.StdEncoding.EncodeToString(a.Encode()),
		}, &Committee{
			ProgramID: p.String(), AggregatePublicKey: agg.String(), Threshold: 1,
			Members: []Member{{Node: id.Node{7}.String(), Weight: 1, BLSPublicKey: sk.PublicKey().String()}},
		}
}

func TestVerifyReceipt(t *testing.T) {
	r, c := signedReceipt(t)
	v, err := VerifyReceipt(r, c)
	if err != nil {
		t.Fatal(err)
	}
	if v.ReceiptID != r.ReceiptID || v.Height != 3 || v.Signers != 1 || v.Members != 1 || v.Weight != 1 || v.Threshold != 1 {
		t.Fatalf("verified %+v", v)
	}
	if err := CheckReceipt(r); err != nil {
		t.Fatal(err)
	}

	other := id.Sum([]byte("other")).String()
	for _, tt := range []struct {
		name   string
		tamper func(r *Receipt, c *Committee)
		msg    string
	}{
		{"a field, with its id", func(r *Receipt, _ *Committee) { r.StateRootOut = other }, "receipt_id"},
		{"a field and its id", func(r *Receipt, _ *Committee) {
			r.StateRootOut = other
			r.ReceiptID = ""
		}, "cbor_base64 disagree"},
		{"a field, its id and the cbor", func(r *Receipt, _ *Committee) {
			r.StateRootOut, r.ReceiptID, r.CBORBase64 = other, "", ""
		}, "not in the certified batch"},
		{"the batch root", func(r *Receipt, _ *Committee) {
			r.Batch.Root, r.CBORBase64 = other, ""
		}, "not in the certified batch"},
		{"the batch height", func(r *Receipt, _ *Committee) {
			r.Batch.Height, r.CBORBase64 = 4, ""
		}, "signature does not verify"},
		{"the fuel", func(r *Receipt, _ *Committee) { r.Fuel++ }, "differ"},
		{"the signer bitmap", func(r *Receipt, _ *Committee) { r.SignerBitmap = "00" }, ""},
		{"another committee key", func(_ *Receipt, c *Committee) {
			sk, _ := bls.GenerateKey(rand.Reader)
			c.Members[0].BLSPublicKey, c.AggregatePublicKey = sk.PublicKey().String(), ""
		}, "signature does not verify"},
		{"the aggregate key", func(_ *Receipt, c *Committee) {
			sk, _ := bls.GenerateKey(rand.Reader)
			c.AggregatePublicKey = sk.PublicKey().String()
		}, "aggregate_public_key"},
		{"another program's committee", func(_ *Receipt, c *Committee) {
			c.ProgramID = id.ProgramOf([]byte("x"), nil).String()
		}, "committee of"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r, c := signedReceipt(t)
			tt.tamper(r, c)
			_, err := VerifyReceipt(r, c)
			if !errors.Is(err, ErrInvalidReceipt) || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("tampered receipt: %v", err)
			}
		})
	}
}
