package guest

// State is the executing program's key-value store. Keys and values are
// arbitrary bytes. Writes are staged by the node and become durable only if
// the call succeeds and its transition is final; reads see the call's own
// writes.
type State struct{ h Host }

const (
	// firstReadCap is the buffer size of the first onvm_state_get and
	// onvm_state_list attempt. It must be at least 8 so that a negative
	// return code that fits in the buffer is an error, not a size.
	firstReadCap = 1024
	// maxReadTries bounds the grow-and-retry loop of Get and List.
	maxReadTries = 5
)

// Get returns the value stored under key, or ErrNotFound. An existing key
// with an empty value returns a non-nil empty slice: onvm_state_get reports
// both as length 0, so Get asks onvm_state_exists to tell them apart.
func (s State) Get(key []byte) ([]byte, error) {
	buf := make([]byte, firstReadCap)
	for range maxReadTries {
		rc := s.h.StateGet(key, buf)
		switch {
		case rc > 0 && int(rc) <= len(buf):
			return buf[:rc], nil
		case rc == 0:
			ok, err := s.Exists(key)
			if err != nil {
				return nil, err
			}
			if !ok {
				return nil, ErrNotFound
			}
			return []byte{}, nil
		case rc < 0 && int64(-rc) > int64(len(buf)):
			buf = make([]byte, -int64(rc)) // -needed: grow and retry
		default:
			return nil, hostErr("onvm_state_get", int64(rc))
		}
	}
	return nil, errTooManyRetries
}

// Put stores value under key. A call may stage at most 1 MiB of writes
// (key + value + 32 bytes per key, last write of each key); the Put that
// would pass it ends the call with writes_too_large (see [Host]).
func (s State) Put(key, value []byte) error {
	if rc := s.h.StatePut(key, value); rc != 0 {
		return hostErr("onvm_state_put", int64(rc))
	}
	return nil
}

// Delete removes key. Deleting a missing key is not an error.
func (s State) Delete(key []byte) error {
	if rc := s.h.StateDel(key); rc != 0 {
		return hostErr("onvm_state_del", int64(rc))
	}
	return nil
}

// Exists reports whether key holds a value (possibly empty).
func (s State) Exists(key []byte) (bool, error) {
	switch rc := s.h.StateExists(key); rc {
	case 0:
		return false, nil
	case 1:
		return true, nil
	default:
		return false, hostErr("onvm_state_exists", int64(rc))
	}
}

// Len returns the length of the value under key, or ErrNotFound.
func (s State) Len(key []byte) (int, error) {
	switch n := s.h.StateLen(key); {
	case n >= 0:
		return int(n), nil
	case n == -1:
		return 0, ErrNotFound
	default:
		return 0, hostErr("onvm_state_len", n)
	}
}

// List returns every key starting with prefix, sorted bytewise. A nil or
// empty prefix lists all keys.
func (s State) List(prefix []byte) ([][]byte, error) {
	buf := make([]byte, firstReadCap)
	for range maxReadTries {
		rc := s.h.StateList(prefix, buf)
		switch {
		case rc >= 0 && int(rc) <= len(buf):
			return decodeKeys(buf[:rc])
		case rc < 0 && int64(-rc) > int64(len(buf)):
			buf = make([]byte, -int64(rc))
		default:
			return nil, hostErr("onvm_state_list", int64(rc))
		}
	}
	return nil, errTooManyRetries
}

// Root returns the sparse Merkle root of the program's state including the
// call's staged writes.
func (s State) Root() ([32]byte, error) {
	var root [32]byte
	if rc := s.h.StateRoot(root[:]); rc != 0 {
		return root, hostErr("onvm_state_root", int64(rc))
	}
	return root, nil
}

// decodeKeys decodes onvm_state_list's output: repeated [u32 LE len][key].
// The keys alias b.
func decodeKeys(b []byte) ([][]byte, error) {
	var keys [][]byte
	for len(b) > 0 {
		if len(b) < 4 {
			return nil, errKeyList
		}
		n := uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
		b = b[4:]
		if uint64(n) > uint64(len(b)) {
			return nil, errKeyList
		}
		keys = append(keys, b[:n:n])
		b = b[n:]
	}
	return keys, nil
}
