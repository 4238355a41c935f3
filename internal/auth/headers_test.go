package auth

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func validHeader() http.Header {
	h := Headers{ProjectID: "proj-1", Timestamp: 1_700_000_000_000, Nonce: "0123456789abcdef", BodySHA256: sha256.Sum256([]byte("body"))}
	h.Signature = Sign([]byte("k"), testNode, "POST", "/blobs?x=1", h)
	hdr := http.Header{}
	SetHeaders(hdr, h)
	return hdr
}

func TestParseHeaders(t *testing.T) {
	tests := []struct {
		name string
		edit func(http.Header)
		want error
		msg  string
	}{
		{"valid", func(http.Header) {}, nil, ""},
		{"no project", func(h http.Header) { h.Del(HeaderProjectID) }, ErrMissingHeader, "x-project-id"},
		{"no timestamp", func(h http.Header) { h.Del(HeaderTimestamp) }, ErrMissingHeader, "x-timestamp"},
		{"no nonce", func(h http.Header) { h.Del(HeaderNonce) }, ErrMissingHeader, "x-nonce"},
		{"no body hash", func(h http.Header) { h.Del(HeaderContentSHA256) }, ErrMissingHeader, "x-content-sha256"},
		{"no signature", func(h http.Header) { h.Del(HeaderSignature) }, ErrMissingHeader, "x-signature"},
		{"empty project", func(h http.Header) { h.Set(HeaderProjectID, "") }, ErrMissingHeader, "x-project-id"},
		{"twice", func(h http.Header) { h.Add(HeaderNonce, "0123456789abcdeX") }, ErrMalformedHeader, "2 times"},
		{"project chars", func(h http.Header) { h.Set(HeaderProjectID, "a b") }, ErrMalformedHeader, "x-project-id"},
		{"project long", func(h http.Header) { h.Set(HeaderProjectID, strings.Repeat("a", 65)) }, ErrMalformedHeader, "x-project-id"},
		{"timestamp sign", func(h http.Header) { h.Set(HeaderTimestamp, "-1") }, ErrMalformedHeader, "x-timestamp"},
		{"timestamp seconds float", func(h http.Header) { h.Set(HeaderTimestamp, "1.5") }, ErrMalformedHeader, "x-timestamp"},
		{"timestamp huge", func(h http.Header) { h.Set(HeaderTimestamp, strings.Repeat("9", 17)) }, ErrMalformedHeader, "x-timestamp"},
		{"nonce short", func(h http.Header) { h.Set(HeaderNonce, "abc") }, ErrMalformedHeader, "x-nonce"},
		{"nonce newline", func(h http.Header) { h.Set(HeaderNonce, "0123456789\nabcdef") }, ErrMalformedHeader, "x-nonce"},
		{"sig short", func(h http.Header) { h.Set(HeaderSignature, "abcd") }, ErrMalformedHeader, "x-signature"},
		{"sig not hex", func(h http.Header) { h.Set(HeaderSignature, strings.Repeat("zz", 32)) }, ErrMalformedHeader, "x-signature"},
		{"body hash not hex", func(h http.Header) { h.Set(HeaderContentSHA256, strings.Repeat("g", 64)) }, ErrMalformedHeader, "x-content-sha256"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := validHeader()
			tt.edit(h)
			_, err := ParseHeaders(h)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if err != nil && !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("err %q does not name %q", err, tt.msg)
			}
		})
	}
}

// TestCanonicalGolden pins the canonical string and its MAC: docs/security.md
// documents exactly this, and other clients (the TypeScript SDK) match it.
func TestCanonicalGolden(t *testing.T) {
	h := Headers{ProjectID: "demo", Timestamp: 1700000000000, Nonce: "n0nce-0001", BodySHA256: EmptyBodySHA256}
	want := "ONVM2-HMAC-SHA256\n4e0de10000000000000000000000000000000000000000000000000000000000\nGET\n/blobs/abc?x=1\ndemo\n1700000000000\nn0nce-0001\n" +
		"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	if got := string(Canonical(testNode, "GET", "/blobs/abc?x=1", h)); got != want {
		t.Fatalf("canonical:\n%s", cmp.Diff(want, got))
	}
	secret, _ := hex.DecodeString(strings.Repeat("11", 32))
	sig := Sign(secret, testNode, "GET", "/blobs/abc?x=1", h)
	const wantSig = "6114e3edd6514a511805ab09226cf919050ddcb2f41791dfaa7607ea01ffd96f"
	if got := hex.EncodeToString(sig[:]); got != wantSig {
		t.Errorf("signature = %s, want %s (update docs/security.md too if the format changed on purpose)", got, wantSig)
	}
}

func FuzzParseHeaders(f *testing.F) {
	v := validHeader()
	f.Add(v.Get(HeaderProjectID), v.Get(HeaderTimestamp), v.Get(HeaderNonce), v.Get(HeaderContentSHA256), v.Get(HeaderSignature))
	f.Add("", "", "", "", "")
	f.Add("a", "01", "........", strings.Repeat("A", 64), strings.Repeat("f", 64))
	f.Fuzz(func(t *testing.T, pid, ts, nonce, sum, sig string) {
		in := http.Header{}
		for k, val := range map[string]string{HeaderProjectID: pid, HeaderTimestamp: ts, HeaderNonce: nonce, HeaderContentSHA256: sum, HeaderSignature: sig} {
			in[k] = []string{val}
		}
		h, err := ParseHeaders(in)
		if err != nil {
			if !errors.Is(err, ErrMissingHeader) && !errors.Is(err, ErrMalformedHeader) {
				t.Fatalf("unexpected error class: %v", err)
			}
			return
		}
		// Whatever parses re-encodes to headers that parse to the same value
		// and whose canonical string has exactly 7 newlines (no injection).
		out := http.Header{}
		SetHeaders(out, h)
		back, err := ParseHeaders(out)
		if err != nil || back != h {
			t.Fatalf("round trip: %+v -> %+v, %v", h, back, err)
		}
		if n := strings.Count(string(Canonical(testNode, "GET", "/", h)), "\n"); n != 7 {
			t.Fatalf("canonical has %d newlines", n)
		}
	})
}
