package guest_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/onvm-network/onvm/guest"
	"github.com/onvm-network/onvm/guest/guesttest"
)

func TestBlobs(t *testing.T) {
	h := guesttest.New()
	data := bytes.Repeat([]byte("blob data "), 300)
	b := h.AddBlob(data)
	empty := h.AddBlob(nil)
	ctx := h.Context()
	for _, idForm := range [][]byte{b[:], []byte(b.String()), []byte(hex.EncodeToString(b[:]))} {
		got, err := ctx.Blob.Read(idForm)
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("Read(%q) = %d bytes, %v", idForm, len(got), err)
		}
		if n, err := ctx.Blob.Len(idForm); n != len(data) || err != nil {
			t.Errorf("Len(%q) = %d, %v", idForm, n, err)
		}
		if sum, err := ctx.Blob.Hash(idForm); sum != [32]byte(b) || err != nil {
			t.Errorf("Hash(%q) = %x, %v", idForm, sum, err)
		}
		if ok, err := ctx.Blob.Exists(idForm); !ok || err != nil {
			t.Errorf("Exists(%q) = %v, %v", idForm, ok, err)
		}
		if a, err := ctx.Blob.Addr(idForm); a != [32]byte(b) || err != nil {
			t.Errorf("Addr(%q) = %x, %v", idForm, a, err)
		}
	}
	if got, err := ctx.Blob.Read(empty[:]); err != nil || len(got) != 0 {
		t.Errorf("Read(empty blob) = %q, %v", got, err)
	}
	missing := make([]byte, 32)
	if _, err := ctx.Blob.Read(missing); !errors.Is(err, guest.ErrNotFound) {
		t.Errorf("Read(missing) err = %v", err)
	}
	if _, err := ctx.Blob.Hash(missing); !errors.Is(err, guest.ErrNotFound) {
		t.Errorf("Hash(missing) err = %v", err)
	}
	if ok, err := ctx.Blob.Exists(missing); ok || err != nil {
		t.Errorf("Exists(missing) = %v, %v", ok, err)
	}
	var he *guest.HostError
	if _, err := ctx.Blob.Addr([]byte("prog" + hex.EncodeToString(b[:]))); !errors.As(err, &he) || he.Code != -4 {
		t.Errorf("Addr(program id) err = %v, want host code -4", err)
	}
}

func TestLogClockRandom(t *testing.T) {
	h := guesttest.New()
	h.SetNowMs(1234)
	ctx := h.Context()
	if err := ctx.Log(guest.LevelWarn, "careful"); err != nil {
		t.Fatal(err)
	}
	if err := ctx.Log(guest.Level(7), "x"); err == nil {
		t.Error("Log at level 7: no error")
	}
	if err := ctx.Log(guest.LevelInfo, "\xff"); err == nil {
		t.Error("Log of invalid UTF-8: no error")
	}
	if d := cmp.Diff([]guesttest.Entry{{Level: guest.LevelWarn, Msg: "careful"}}, h.Logs()); d != "" {
		t.Errorf("Logs (-want +got):\n%s", d)
	}
	if got := ctx.NowMs(); got != 1234 {
		t.Errorf("NowMs = %d", got)
	}
	a, b := make([]byte, 16), make([]byte, 16)
	if err := ctx.Random(a); err != nil {
		t.Fatal(err)
	}
	h.SetSeed(nil)
	if err := ctx.Random(b); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) || bytes.Equal(a, make([]byte, 16)) {
		t.Errorf("Random not a deterministic non-zero stream: %x vs %x", a, b)
	}
}

func TestHash(t *testing.T) {
	ctx := guesttest.New().Context()
	tests := []struct {
		algo guest.HashAlgo
		in   string
		want string
	}{
		{guest.SHA256, "abc", hex.EncodeToString(func() []byte { s := sha256.Sum256([]byte("abc")); return s[:] }())},
		{guest.Keccak256, "", "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"},
	}
	for _, tt := range tests {
		got, err := ctx.Hash(tt.algo, []byte(tt.in))
		if err != nil || hex.EncodeToString(got[:]) != tt.want {
			t.Errorf("Hash(%d, %q) = %x, %v; want %s", tt.algo, tt.in, got, err, tt.want)
		}
	}
	if _, err := ctx.Hash(guest.HashAlgo(9), nil); err == nil {
		t.Error("Hash with unknown algorithm: no error")
	}
}

func TestSecp256k1(t *testing.T) {
	ctx := guesttest.New().Context()
	digest := sha256.Sum256([]byte("message"))
	sig, pub := guesttest.Sign([32]byte{1, 2, 3}, digest)
	if ok, err := ctx.Secp256k1Verify(digest, sig, pub); !ok || err != nil {
		t.Fatalf("Verify(good) = %v, %v", ok, err)
	}
	other := digest
	other[0] ^= 1
	if ok, err := ctx.Secp256k1Verify(other, sig, pub); ok || err != nil {
		t.Errorf("Verify(wrong digest) = %v, %v", ok, err)
	}
	bad := sig
	copy(bad[:32], bytes.Repeat([]byte{0xff}, 32)) // r >= n
	if _, err := ctx.Secp256k1Verify(digest, bad, pub); !errors.Is(err, guest.ErrInvalidSignature) {
		t.Errorf("Verify(r overflow) err = %v", err)
	}
	if _, err := ctx.Secp256k1Verify(digest, sig, [64]byte{}); !errors.Is(err, guest.ErrInvalidPublicKey) {
		t.Errorf("Verify(bad key) err = %v", err)
	}
	got, err := ctx.Secp256k1Recover(digest, sig)
	if err != nil || got != pub {
		t.Errorf("Recover = %x, %v; want %x", got, err, pub)
	}
}
