package p2p

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/onvm-network/onvm/internal/codec"
)

// Every stream protocol here frames messages as uvarint(length) followed by
// that many bytes: the canonical CBOR of a message, or raw data whose
// length the protocol fixes. A reader rejects a length over the limit its
// protocol sets before allocating anything.

// writeFrame writes b as one frame.
func writeFrame(w io.Writer, b []byte) error {
	var hdr [binary.MaxVarintLen64]byte
	n := binary.PutUvarint(hdr[:], uint64(len(b)))
	if _, err := w.Write(hdr[:n]); err != nil {
		return err
	}
	_, err := w.Write(b)
	return err
}

// writeMsg writes the canonical encoding of v as one frame.
func writeMsg(w io.Writer, v any) error {
	b, err := codec.Marshal(v)
	if err != nil {
		return err
	}
	return writeFrame(w, b)
}

// readFrameLen reads a frame header and checks it against limit. An I/O
// failure is returned as is (io.EOF before the first byte); only a header
// no honest peer sends is ErrProtocol.
func readFrameLen(r *bufio.Reader, limit int) (int, error) {
	var n uint64
	for i := 0; ; i++ {
		c, err := r.ReadByte()
		if err != nil {
			if i > 0 && errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return 0, err
		}
		if i == binary.MaxVarintLen64-1 && c > 1 || i >= binary.MaxVarintLen64 {
			return 0, fmt.Errorf("%w: frame header overflows", ErrProtocol)
		}
		n |= uint64(c&0x7f) << (7 * i)
		if c < 0x80 {
			break
		}
	}
	if n > uint64(limit) {
		return 0, fmt.Errorf("%w: frame of %d bytes, limit %d", ErrTooLarge, n, limit)
	}
	return int(n), nil
}

// readFrame reads one frame of at most limit bytes.
func readFrame(r *bufio.Reader, limit int) ([]byte, error) {
	n, err := readFrameLen(r, limit)
	if err != nil {
		return nil, err
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, fmt.Errorf("frame body: %w", err) // a transport failure, or a peer gone
	}
	return b, nil
}

// readMsg reads one frame of at most limit bytes and strictly decodes it
// into v.
func readMsg(r *bufio.Reader, limit int, v any) error {
	b, err := readFrame(r, limit)
	if err != nil {
		return err
	}
	if err := codec.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%w: %v", ErrProtocol, err)
	}
	return nil
}
