package state

import (
	"encoding/hex"
	"encoding/json"
	"os"
	"testing"

	"github.com/onvm-network/onvm/internal/id"
)

type smtVectors struct {
	Empty string `json:"empty"`
	Cases []struct {
		Name    string            `json:"name"`
		Entries map[string]string `json:"entries_hex"`
		Root    string            `json:"root"`
		Proofs  []struct {
			Key      string   `json:"key_hex"`
			Value    *string  `json:"value_hex"`
			Siblings []string `json:"siblings_leaf_to_root"`
		} `json:"proofs"`
	} `json:"cases"`
}

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestVectors checks roots and every proof of the independently computed
// vectors: the store's roots, its proofs sibling for sibling, the offline
// verifier, and the reference rebuild.
func TestVectors(t *testing.T) {
	raw, err := os.ReadFile("../../testdata/smt_vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var vs smtVectors
	if err := json.Unmarshal(raw, &vs); err != nil {
		t.Fatal(err)
	}
	if got := EmptyRoot.String(); got != vs.Empty {
		t.Fatalf("EmptyRoot = %s, want %s", got, vs.Empty)
	}
	if len(vs.Cases) == 0 {
		t.Fatal("no vector cases")
	}
	for _, c := range vs.Cases {
		t.Run(c.Name, func(t *testing.T) {
			s, db := newTestStore(t)
			p := id.Program(id.Sum([]byte(c.Name)))
			ref := refTree{}
			var ws []Write
			for k, v := range c.Entries {
				ws = append(ws, Write{Key: mustHex(t, k), Value: mustHex(t, v)})
				ref[string(mustHex(t, k))] = mustHex(t, v)
			}
			want, err := id.ParseHash(c.Root)
			if err != nil {
				t.Fatal(err)
			}
			if got := ref.root(); got != want {
				t.Fatalf("reference root = %s, want %s", got, want)
			}
			if got, err := s.RootWith(p, ws); err != nil || got != want {
				t.Fatalf("RootWith = %s, %v; want %s", got, err, want)
			}
			if got := commit(t, s, db, p, ws); got != want {
				t.Fatalf("Apply root = %s, want %s", got, want)
			}
			for _, pv := range c.Proofs {
				key := mustHex(t, pv.Key)
				pr, err := s.Prove(p, want, key)
				if err != nil {
					t.Fatal(err)
				}
				if pr.Present != (pv.Value != nil) {
					t.Fatalf("key %s: present %v, vector says %v", pv.Key, pr.Present, pv.Value != nil)
				}
				var value []byte
				if pv.Value != nil {
					value = mustHex(t, *pv.Value)
					if string(pr.Value) != string(value) {
						t.Fatalf("key %s: value %x, want %x", pv.Key, pr.Value, value)
					}
				}
				if len(pv.Siblings) != Depth {
					t.Fatalf("vector has %d siblings", len(pv.Siblings))
				}
				sibs := make([]id.Hash, Depth)
				for i, h := range pv.Siblings {
					if sibs[i], err = id.ParseHash(h); err != nil {
						t.Fatal(err)
					}
					if pr.Siblings[i] != sibs[i] {
						t.Fatalf("key %s: sibling %d = %s, want %s", pv.Key, i, pr.Siblings[i], sibs[i])
					}
				}
				if err := Verify(want, key, value, pv.Value != nil, sibs); err != nil {
					t.Fatalf("vector proof for %s does not verify: %v", pv.Key, err)
				}
				if err := pr.Verify(); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}
