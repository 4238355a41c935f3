package bls

import (
	"bytes"
	"encoding/json"
	"testing"

	blst "github.com/supranational/blst/bindings/go"
)

func keys(t testing.TB, n int) []*SecretKey {
	t.Helper()
	out := make([]*SecretKey, n)
	for i := range out {
		k, err := GenerateKey(bytes.NewReader(bytes.Repeat([]byte{byte(i + 1)}, 32)))
		if err != nil {
			t.Fatal(err)
		}
		out[i] = k
	}
	return out
}

func TestSignVerify(t *testing.T) {
	k := keys(t, 2)
	msg := []byte("receipt id")
	sig := k[0].Sign(DSTBallot, msg)
	if !Verify(k[0].PublicKey(), DSTBallot, msg, sig) {
		t.Fatal("valid signature rejected")
	}
	if Verify(k[1].PublicKey(), DSTBallot, msg, sig) {
		t.Fatal("signature accepted under another key")
	}
	if Verify(k[0].PublicKey(), DSTPossession, msg, sig) {
		t.Fatal("signature accepted under another tag")
	}
	if Verify(k[0].PublicKey(), DSTBallot, []byte("other"), sig) {
		t.Fatal("signature accepted for another message")
	}
	for i := range SignatureSize {
		bad := sig
		bad[i] ^= 1
		if Verify(k[0].PublicKey(), DSTBallot, msg, bad) {
			t.Fatalf("signature with byte %d flipped accepted", i)
		}
	}
}

func TestDeterministicKeyAndRoundTrip(t *testing.T) {
	a, b := keys(t, 1)[0], keys(t, 1)[0]
	if a.PublicKey() != b.PublicKey() {
		t.Fatal("same key material, different keys")
	}
	c, err := SecretKeyFromBytes(a.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if c.PublicKey() != a.PublicKey() {
		t.Fatal("secret key round trip changed the key")
	}
	if _, err := SecretKeyFromBytes(make([]byte, 32)); err == nil {
		t.Fatal("zero secret key accepted")
	}
	if _, err := SecretKeyFromBytes(make([]byte, 31)); err == nil {
		t.Fatal("short secret key accepted")
	}
	pk := a.PublicKey()
	got, err := PublicKeyFromBytes(pk[:])
	if err != nil || got != pk {
		t.Fatalf("public key round trip: %v", err)
	}
	bad := pk
	bad[5] ^= 0xff
	if _, err := PublicKeyFromBytes(bad[:]); err == nil {
		t.Fatal("corrupt public key accepted")
	}
	raw, _ := json.Marshal(struct{ K PublicKey }{pk})
	var back struct{ K PublicKey }
	if err := json.Unmarshal(raw, &back); err != nil || back.K != pk {
		t.Fatalf("JSON round trip: %v", err)
	}
}

func TestAggregate(t *testing.T) {
	k := keys(t, 4)
	msg := []byte("receipt")
	var pks []PublicKey
	var sigs []Signature
	for _, key := range k {
		pks = append(pks, key.PublicKey())
		sigs = append(sigs, key.Sign(DSTBallot, msg))
	}
	agg, err := Aggregate(sigs)
	if err != nil {
		t.Fatal(err)
	}
	if !FastAggregateVerify(pks, DSTBallot, msg, agg) {
		t.Fatal("valid aggregate rejected")
	}
	if FastAggregateVerify(pks[:3], DSTBallot, msg, agg) {
		t.Fatal("aggregate accepted for a subset of signers")
	}
	sub, _ := Aggregate(sigs[:3])
	if !FastAggregateVerify(pks[:3], DSTBallot, msg, sub) {
		t.Fatal("subset aggregate rejected")
	}
	if FastAggregateVerify(nil, DSTBallot, msg, agg) {
		t.Fatal("empty key set accepted")
	}
	if _, err := Aggregate(nil); err == nil {
		t.Fatal("empty aggregate accepted")
	}
}

func TestPossession(t *testing.T) {
	k := keys(t, 2)
	pop := k[0].Prove()
	if !VerifyPossession(k[0].PublicKey(), pop) {
		t.Fatal("valid proof rejected")
	}
	if VerifyPossession(k[1].PublicKey(), pop) {
		t.Fatal("proof accepted for another key")
	}
	// A proof is not a receipt signature of the key bytes.
	pk := k[0].PublicKey()
	if Verify(pk, DSTBallot, pk[:], pop) {
		t.Fatal("proof valid under the receipt tag")
	}
}

func FuzzVerify(f *testing.F) {
	k := keys(f, 1)[0]
	sig := k.Sign(DSTBallot, []byte("m"))
	pk := k.PublicKey()
	f.Add(pk[:], sig[:], []byte("m"))
	f.Fuzz(func(t *testing.T, pkb, sigb, msg []byte) {
		pk, err := PublicKeyFromBytes(pkb)
		if err != nil {
			return
		}
		s, err := SignatureFromBytes(sigb)
		if err != nil {
			return
		}
		_ = Verify(pk, DSTBallot, msg, s)
		_, _ = Aggregate([]Signature{s, s})
	})
}

func BenchmarkVerify(b *testing.B) {
	k := keys(b, 1)[0]
	msg := []byte("receipt")
	sig := k.Sign(DSTBallot, msg)
	pk := k.PublicKey()
	for b.Loop() {
		if !Verify(pk, DSTBallot, msg, sig) {
			b.Fatal("rejected")
		}
	}
}

// BenchmarkKeyDecode measures what the decoded-key cache saves on every
// signature check: decompressing a public key and checking its subgroup,
// next to a whole check with the key cached, in the same run.
func BenchmarkKeyDecode(b *testing.B) {
	k := keys(b, 1)[0]
	pk := k.PublicKey()
	msg := []byte("receipt")
	sig := k.Sign(DSTBallot, msg)
	b.Run("decode-and-validate", func(b *testing.B) {
		for b.Loop() {
			p := new(blst.P2Affine).Uncompress(pk[:])
			if p == nil || !p.KeyValidate() {
				b.Fatal("invalid")
			}
		}
	})
	b.Run("verify-cached-key", func(b *testing.B) {
		for b.Loop() {
			if !Verify(pk, DSTBallot, msg, sig) {
				b.Fatal("rejected")
			}
		}
	})
}
