package guesttest_test

import (
	"encoding/hex"
	"encoding/json"
	"os"
	"testing"

	"github.com/onvm-network/onvm/guest/guesttest"
)

// TestRootVectors checks the fake's state root against the shared sparse
// Merkle tree vectors, so programs that return their root test truthfully.
func TestRootVectors(t *testing.T) {
	raw, err := os.ReadFile("../../testdata/smt_vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		Cases []struct {
			Name    string            `json:"name"`
			Entries map[string]string `json:"entries_hex"`
			Root    string            `json:"root"`
		} `json:"cases"`
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	for _, c := range v.Cases {
		t.Run(c.Name, func(t *testing.T) {
			h := guesttest.New()
			for k, val := range c.Entries {
				kb, err1 := hex.DecodeString(k)
				vb, err2 := hex.DecodeString(val)
				if err1 != nil || err2 != nil {
					t.Fatalf("bad vector %q: %q", k, val)
				}
				h.Put(kb, vb)
			}
			root, err := h.Context().State.Root()
			if err != nil || hex.EncodeToString(root[:]) != c.Root {
				t.Fatalf("Root = %x, %v; want %s", root, err, c.Root)
			}
		})
	}
}
