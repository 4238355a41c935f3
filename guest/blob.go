package guest

// Blobs reads content-addressed blobs stored on the node. A blob id is
// either its 32 raw bytes or its text form ("blob<hex>" or bare hex).
// Only blobs held locally are readable: the host does not fetch from peers
// during a call.
type Blobs struct{ h Host }

// Read returns the whole content of blob id, ErrNotFound if the node does
// not know it, or ErrUnavailable if it knows it but cannot read it.
func (b Blobs) Read(id []byte) ([]byte, error) {
	n, err := b.Len(id)
	if err != nil {
		return nil, err
	}
	buf := make([]byte, n)
	switch rc := b.h.BlobRead(id, buf); {
	case rc >= 0 && int(rc) <= len(buf):
		return buf[:rc], nil
	case rc == -6:
		return nil, ErrUnavailable
	default:
		return nil, hostErr("onvm_blob_read", int64(rc))
	}
}

// Len returns the size of blob id in bytes, or ErrNotFound.
func (b Blobs) Len(id []byte) (int, error) {
	switch n := b.h.BlobLen(id); {
	case n >= 0:
		return int(n), nil
	case n == -1:
		return 0, ErrNotFound
	default:
		return 0, hostErr("onvm_blob_len", n)
	}
}

// Hash returns the BLAKE3-256 digest of blob id's content, or ErrNotFound.
func (b Blobs) Hash(id []byte) ([32]byte, error) {
	var h [32]byte
	switch rc := b.h.BlobHash(id, h[:]); rc {
	case 0:
		return h, nil
	case -2:
		return h, ErrNotFound
	default:
		return h, hostErr("onvm_blob_hash", int64(rc))
	}
}

// Exists reports whether the node knows blob id (its content may still be
// incomplete locally; Read reports that as ErrUnavailable).
func (b Blobs) Exists(id []byte) (bool, error) {
	switch rc := b.h.BlobExists(id); rc {
	case 0:
		return false, nil
	case 1:
		return true, nil
	default:
		return false, hostErr("onvm_blob_exists", int64(rc))
	}
}

// Addr parses a blob id in either form and returns its 32 raw bytes.
func (b Blobs) Addr(id []byte) ([32]byte, error) {
	var a [32]byte
	if rc := b.h.BlobAddr(id, a[:]); rc != 0 {
		return a, hostErr("onvm_blob_addr", int64(rc))
	}
	return a, nil
}
