package program

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"testing"

	"github.com/onvm-network/onvm/internal/bls"
	"github.com/onvm-network/onvm/internal/consensus"
	"github.com/onvm-network/onvm/internal/id"
)

func testManifest(t testing.TB) (*Manifest, []byte, ed25519.PrivateKey) {
	t.Helper()
	_, key, _ := ed25519.GenerateKey(bytes.NewReader(bytes.Repeat([]byte{3}, 64)))
	sk, _ := bls.GenerateKey(bytes.NewReader(bytes.Repeat([]byte{4}, 32)))
	node := id.Node(key.Public().(ed25519.PublicKey))
	code := []byte("\x00asm\x01\x00\x00\x00 some code")
	salt := []byte("salt")
	p := id.ProgramOf(code, salt)
	c, err := consensus.SelectCommittee(p, []consensus.Validator{{Node: node, BLSKey: sk.PublicKey(), Proof: sk.Prove()}}, 1)
	if err != nil {
		t.Fatal(err)
	}
	m, err := Sign(Body{
		Program: p, Version: ManifestVersion, Deployer: node, Entrypoints: []string{"onvm_main"},
		EnvHash: id.Sum([]byte("env")), CodeBlob: id.BlobOf(code), CodeSize: int64(len(code)),
		Instrumented: id.BlobOf([]byte("instrumented")), Salt: salt, InitialRoot: id.Hash{1},
		Committee: c, Timestamp: 1700000000000,
	}, key)
	if err != nil {
		t.Fatal(err)
	}
	return m, code, key
}

func TestManifestRoundTrip(t *testing.T) {
	m, code, _ := testManifest(t)
	back, err := Decode(m.Encode())
	if err != nil {
		t.Fatal(err)
	}
	if back.ID() != m.ID() {
		t.Fatal("round trip changed the manifest id")
	}
	if err := back.VerifyCode(code); err != nil {
		t.Fatal(err)
	}
}

func TestManifestRejects(t *testing.T) {
	m, code, key := testManifest(t)
	if err := m.VerifyCode(append(code, 0)); !errors.Is(err, ErrCodeMismatch) {
		t.Fatalf("other code accepted: %v", err)
	}
	// A manifest claiming another program id for the same code.
	forged := *m
	forged.Body.Program = id.ProgramOf(code, []byte("other salt"))
	forged.Body.Committee.Program = forged.Body.Program
	if err := forged.Verify(); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("edited body verified: %v", err)
	}
	resigned, err := Sign(forged.Body, key)
	if err != nil {
		t.Fatal(err)
	}
	if err := resigned.VerifyCode(code); !errors.Is(err, ErrCodeMismatch) {
		t.Fatalf("id not bound to code and salt: %v", err)
	}
	// Signed by someone else.
	_, other, _ := ed25519.GenerateKey(bytes.NewReader(bytes.Repeat([]byte{9}, 64)))
	if _, err := Sign(m.Body, other); err == nil {
		t.Fatal("signed with a key that is not the deployer's")
	}
	// Every flipped bit of the encoding fails to decode or verify.
	enc := m.Encode()
	for i := range len(enc) * 8 {
		bad := append([]byte(nil), enc...)
		bad[i/8] ^= 1 << (i % 8)
		if got, err := Decode(bad); err == nil && got.ID() != m.ID() {
			t.Fatalf("bit %d flipped: accepted", i)
		}
	}
}

func FuzzDecode(f *testing.F) {
	m, _, _ := testManifest(f)
	f.Add(m.Encode())
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := Decode(b)
		if err != nil {
			return
		}
		if !bytes.Equal(got.Encode(), b) {
			t.Fatal("accepted a non-canonical encoding")
		}
	})
}
