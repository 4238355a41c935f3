package auth

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

func sha(b []byte) [32]byte { return sha256.Sum256(b) }

func TestVerifyBody(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789"), 10000)
	got, err := io.ReadAll(VerifyBody(iotest.HalfReader(bytes.NewReader(data)), sha(data)))
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("matching body: %v", err)
	}
	r := VerifyBody(bytes.NewReader(data), sha([]byte("other")))
	if _, err := io.ReadAll(r); !errors.Is(err, ErrBodyMismatch) {
		t.Fatalf("mismatching body = %v", err)
	}
	if _, err := r.Read(make([]byte, 1)); !errors.Is(err, ErrBodyMismatch) {
		t.Fatalf("error is not sticky: %v", err)
	}
	// Data returned together with io.EOF is hashed too.
	if _, err := io.ReadAll(VerifyBody(iotest.DataErrReader(bytes.NewReader(data)), sha(data))); err != nil {
		t.Fatalf("DataErrReader: %v", err)
	}
	if err := iotest.TestReader(VerifyBody(bytes.NewReader(data), sha(data)), data); err != nil {
		t.Fatal(err)
	}
}

// countingReader counts the bytes it gave out.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func TestReadBody(t *testing.T) {
	body := []byte(`{"a":1}`)
	if got, err := ReadBody(bytes.NewReader(body), 100, sha(body)); err != nil || !bytes.Equal(got, body) {
		t.Fatalf("ReadBody = %q, %v", got, err)
	}
	if _, err := ReadBody(bytes.NewReader(body), 100, sha([]byte("x"))); !errors.Is(err, ErrBodyMismatch) {
		t.Fatalf("tampered = %v", err)
	}
	big := &countingReader{r: strings.NewReader(strings.Repeat("x", 1<<20))}
	if _, err := ReadBody(big, 1000, sha(nil)); !errors.Is(err, ErrBodyTooLarge) {
		t.Fatalf("oversize = %v", err)
	}
	if big.n > 1001 {
		t.Fatalf("read %d bytes of an oversize body, want at most 1001", big.n)
	}
}
