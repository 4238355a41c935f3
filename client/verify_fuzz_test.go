package client

import (
	"encoding/json"
	"testing"
)

// FuzzVerifyInputs feeds arbitrary receipt and committee JSON to the
// offline verifier's parsers (VerifyReceipt): they may reject, never panic, and a receipt
// they accept re-derives its own id.
func FuzzVerifyInputs(f *testing.F) {
	f.Add([]byte(`{"receipt_id":"","program_id":"prog`+zeros+`","height":1,"state_root_in":"`+zeros+`","signer_bitmap":"01","aggregate_signature":"00"}`),
		[]byte(`{"program_id":"prog`+zeros+`","epoch":0,"members":[{"node":"`+zeros+`","weight":1,"bls_public_key":"00"}],"threshold":1}`))
	f.Add([]byte(`{}`), []byte(`{"members":[]}`))
	f.Fuzz(func(t *testing.T, receipt, committee []byte) {
		var rj Receipt
		if json.Unmarshal(receipt, &rj) == nil {
			if a, err := receiptFromWire(&rj); err == nil && rj.ReceiptID != "" && a.Receipt.ID().String() != rj.ReceiptID {
				t.Fatal("accepted a receipt whose id does not match its fields")
			}
		}
		var cj Committee
		if json.Unmarshal(committee, &cj) == nil {
			if c, err := committeeFromWire(&cj); err == nil && c.Validate() != nil {
				t.Fatal("accepted an invalid committee")
			}
		}
	})
}

const zeros = "0000000000000000000000000000000000000000000000000000000000000000"
