package main

import (
	"encoding/base64"
	"errors"
	"slices"
	"strconv"
	"strings"

	"github.com/onvm-network/onvm/examples/internal/blake3"
	"github.com/onvm-network/onvm/examples/internal/serde"
	"github.com/onvm-network/onvm/guest"
)

// indexKey holds the key index: base64 of the sorted, comma-joined keys.
// A key containing a comma therefore splits into several index entries, and
// a key named "__keys" overwrites the index, as in the original.
const indexKey = "__keys"

// store implements the operations on the program's state. Values live under
// their raw key bytes.
type store struct{ st guest.State }

// value reads key the way the original did: onvm_state_get reports an empty
// value like a missing one, so an empty value is "missing" (ok false).
func (s store) value(key string) (v []byte, ok bool, err error) {
	v, err = s.st.Get([]byte(key))
	switch {
	case errors.Is(err, guest.ErrNotFound):
		return nil, false, nil
	case err != nil:
		return nil, false, err
	}
	return v, len(v) > 0, nil
}

// keys returns the index; a missing, empty or undecodable index is empty.
func (s store) keys() []string {
	raw, ok, err := s.value(indexKey)
	if err != nil || !ok {
		return nil
	}
	joined, err := base64.StdEncoding.DecodeString(string(raw))
	if err != nil || len(joined) == 0 {
		return nil
	}
	return strings.Split(string(joined), ",")
}

func (s store) saveKeys(keys []string) error {
	return s.st.Put([]byte(indexKey), []byte(base64.StdEncoding.EncodeToString([]byte(strings.Join(keys, ",")))))
}

func (s store) put(key, dataB64 string) []byte {
	data, err := decodeStd(dataB64)
	if err != nil {
		return errorResponse("base64 decode: " + err.Error())
	}
	if err := s.st.Put([]byte(key), data); err != nil {
		return errorResponse("state put failed: " + hostCode(err))
	}
	keys := append(s.keys(), key)
	slices.Sort(keys)
	if err := s.saveKeys(slices.Compact(keys)); err != nil {
		return errorResponse("state put failed: " + hostCode(err))
	}
	var o serde.Obj
	return o.Str("status", "okput").Str("key", key).Uint("size", uint64(len(data))).
		Str("checksum", blake3.Hex(data)).Bytes()
}

func (s store) get(key string) []byte {
	v, ok, err := s.value(key)
	switch {
	case err != nil:
		return errorResponse("unable to fetch value")
	case !ok:
		return errorResponse("missing key")
	}
	var o serde.Obj
	return o.Str("status", "okget").Str("key", key).Uint("size", uint64(len(v))).
		Str("checksum", blake3.Hex(v)).Str("data_base64", base64.StdEncoding.EncodeToString(v)).Bytes()
}

// list reports every indexed key with a non-empty value, in key order.
func (s store) list() []byte {
	entries := []byte{'['}
	for _, k := range s.keys() {
		v, ok, err := s.value(k)
		if err != nil || !ok {
			continue
		}
		if len(entries) > 1 {
			entries = append(entries, ',')
		}
		var e serde.Obj
		entries = append(entries, e.Str("key", k).Uint("size", uint64(len(v))).Str("checksum", blake3.Hex(v)).Bytes()...)
	}
	entries = append(entries, ']')
	var o serde.Obj
	return o.Str("status", "oklist").Raw("entries", entries).Bytes()
}

// clear overwrites every indexed key with an empty value (which then reads
// as missing) and empties the index.
func (s store) clear() []byte {
	keys := s.keys()
	for _, k := range keys {
		if err := s.st.Put([]byte(k), nil); err != nil {
			return errorResponse("state put failed: " + hostCode(err))
		}
	}
	if err := s.saveKeys(nil); err != nil {
		return errorResponse("state put failed: " + hostCode(err))
	}
	var o serde.Obj
	return o.Str("status", "okclear").Uint("removed", uint64(len(keys))).Bytes()
}

// stats counts the indexed keys, and sums and hashes (key‖value in index
// order) those that have a value.
func (s store) stats() []byte {
	keys := s.keys()
	var total uint64
	var concat []byte
	for _, k := range keys {
		v, ok, err := s.value(k)
		if err != nil || !ok {
			continue
		}
		total += uint64(len(v))
		concat = append(append(concat, k...), v...)
	}
	var o serde.Obj
	return o.Str("status", "okstats").Uint("total_keys", uint64(len(keys))).Uint("total_bytes", total).
		Str("checksum", blake3.Hex(concat)).Bytes()
}

// decodeStd decodes standard padded base64 strictly, like the Rust base64
// crate's STANDARD engine (Go's decoder would skip CR and LF).
func decodeStd(s string) ([]byte, error) {
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		return nil, base64.CorruptInputError(i)
	}
	return base64.StdEncoding.Strict().DecodeString(s)
}

func hostCode(err error) string {
	var he *guest.HostError
	if errors.As(err, &he) {
		return strconv.FormatInt(he.Code, 10)
	}
	return err.Error()
}
