package cli

import (
	"encoding/json"
	"testing"

	"github.com/onvm-network/onvm/client"
)

// FuzzVerifyInputs feeds arbitrary receipt and committee JSON to the
// offline verifier's parsers: they may reject, never panic, and a receipt
// they accept re-derives its own id.
func FuzzVerifyInputs(f *testing.F) {
	f.Add([]byte(`{"receipt_id":"","program_id":"prog`+zeros+`","height":1,"state_root_in":"`+zeros+`","signer_bitmap":"01","aggregate_signature":"00"}`),
		[]byte(`{"program_id":"prog`+zeros+`","epoch":0,"members":[{"node":"`+zeros+`","weight":1,"bls_public_key":"00"}],"threshold":1}`))
	f.Add([]byte(`{}`), []byte(`{"members":[]}`))
	f.Fuzz(func(t *testing.T, receipt, committee []byte) {
		var rj client.Receipt
		if json.Unmarshal(receipt, &rj) == nil {
			if a, err := receiptFromJSON(&rj); err == nil && rj.ReceiptID != "" && a.Receipt.ID().String() != rj.ReceiptID {
				t.Fatal("accepted a receipt whose id does not match its fields")
			}
		}
		var cj client.Committee
		if json.Unmarshal(committee, &cj) == nil {
			if c, err := committeeFromJSON(&cj); err == nil && c.Validate() != nil {
				t.Fatal("accepted an invalid committee")
			}
		}
	})
}

const zeros = "0000000000000000000000000000000000000000000000000000000000000000"
