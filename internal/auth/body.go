package auth

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"hash"
	"io"
)

// VerifyBody wraps a streamed body so that reading it to the end checks its
// SHA-256 against want: on a mismatch the last Read returns ErrBodyMismatch
// instead of io.EOF, so a consumer that commits only at a clean EOF (the
// blob store's Put) aborts instead of storing the bytes.
func VerifyBody(r io.Reader, want [32]byte) io.Reader {
	return &verifyingReader{r: r, h: sha256.New(), want: want}
}

type verifyingReader struct {
	r    io.Reader
	h    hash.Hash
	want [32]byte
	err  error // sticky result once the end was seen
}

func (v *verifyingReader) Read(p []byte) (int, error) {
	if v.err != nil {
		return 0, v.err
	}
	n, err := v.r.Read(p)
	v.h.Write(p[:n])
	if err == io.EOF {
		var got [32]byte
		v.h.Sum(got[:0])
		if subtle.ConstantTimeCompare(got[:], v.want[:]) != 1 {
			v.err = ErrBodyMismatch
		} else {
			v.err = io.EOF
		}
		return n, v.err
	}
	return n, err
}

// ReadBody reads a whole body of at most max bytes and checks its SHA-256
// against want. A longer body is ErrBodyTooLarge after reading max+1 bytes
// at most; nothing more is buffered.
func ReadBody(r io.Reader, max int64, want [32]byte) ([]byte, error) {
	var buf bytes.Buffer
	n, err := buf.ReadFrom(io.LimitReader(r, max+1))
	if err != nil {
		return nil, fmt.Errorf("read request body: %w", err)
	}
	if n > max {
		return nil, fmt.Errorf("%w (%d bytes)", ErrBodyTooLarge, max)
	}
	got := sha256.Sum256(buf.Bytes())
	if subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
		return nil, ErrBodyMismatch
	}
	return buf.Bytes(), nil
}
