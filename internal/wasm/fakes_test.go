package wasm

import (
	"bytes"
	"errors"
	"slices"
	"strings"

	"github.com/onvm-network/onvm/internal/id"
)

var errFakeStore = errors.New("fake store failure")

// fakeState is a committed state in memory; fail makes every method fail.
type fakeState struct {
	kv   map[string][]byte
	fail bool
}

func (f *fakeState) Get(key []byte) ([]byte, bool, error) {
	if f.fail {
		return nil, false, errFakeStore
	}
	v, ok := f.kv[string(key)]
	return v, ok, nil
}

func (f *fakeState) List(prefix []byte) ([][]byte, error) {
	if f.fail {
		return nil, errFakeStore
	}
	var keys [][]byte
	for k := range f.kv {
		if strings.HasPrefix(k, string(prefix)) {
			keys = append(keys, []byte(k))
		}
	}
	slices.SortFunc(keys, bytes.Compare)
	return keys, nil
}

// Root hashes the merged key/value list (not a Merkle tree: the runtime only
// passes the overlay through).
func (f *fakeState) Root(overlay []Write) (id.Hash, error) {
	if f.fail {
		return id.Hash{}, errFakeStore
	}
	merged := map[string][]byte{}
	for k, v := range f.kv {
		merged[k] = v
	}
	for _, w := range overlay {
		if w.Delete {
			delete(merged, string(w.Key))
		} else {
			merged[string(w.Key)] = w.Value
		}
	}
	var parts [][]byte
	for _, k := range slices.Sorted(func(yield func(string) bool) {
		for k := range merged {
			if !yield(k) {
				return
			}
		}
	}) {
		parts = append(parts, []byte(k), merged[k])
	}
	return id.Sum(parts...), nil
}

// fakeBlobs stores blobs by id; fail makes every method fail; corrupt makes
// ReadAll fail.
type fakeBlobs struct {
	m             map[id.Blob][]byte
	fail, corrupt bool
}

func newFakeBlobs(blobs ...[]byte) *fakeBlobs {
	f := &fakeBlobs{m: map[id.Blob][]byte{}}
	for _, b := range blobs {
		f.m[id.BlobOf(b)] = b
	}
	return f
}

func (f *fakeBlobs) Stat(b id.Blob) (int64, bool, error) {
	if f.fail {
		return 0, false, errFakeStore
	}
	v, ok := f.m[b]
	return int64(len(v)), ok, nil
}

func (f *fakeBlobs) ReadAll(b id.Blob, max int64) ([]byte, error) {
	if f.fail || f.corrupt {
		return nil, errFakeStore
	}
	v, ok := f.m[b]
	if !ok || int64(len(v)) > max {
		return nil, errFakeStore
	}
	return v, nil
}
