package wasm

import (
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
)

// TestWriteSetLimit drives onvm_state_put and onvm_state_del through the
// hostcalls fixture against Call.MaxWriteSet: the last write per key
// counts (key + value + WriteOverhead), overwrites and deletes adjust the
// total, and the write that would exceed the limit fails the call with
// KindWritesTooLarge, no writes and the same fuel on both engines.
func TestWriteSetLimit(t *testing.T) {
	put := func(key, keyLen, val, valLen int) hop {
		return hop{opPut, []uint32{rel(key), uint32(keyLen), rel(val), uint32(valLen)}}
	}
	del := func(key, keyLen int) hop { return hop{opDel, []uint32{rel(key), uint32(keyLen)}} }
	// Payload: keys "k", "j", then the value "vvv" at 2.
	payload := []byte("kjvvv")
	const kv3 = 1 + 3 + WriteOverhead // "k" = "vvv"
	many := make([]hop, 0, 100)
	manyKeys := make([]byte, 100)
	for i := range manyKeys {
		manyKeys[i] = byte(i)
		many = append(many, put(len(payload)+i, 1, 0, 0))
	}
	tests := []struct {
		name  string
		limit int
		ops   []hop
		keys  []byte // appended to the payload
		size  int    // the write set's size when the call succeeds
		fail  string // the message of a KindWritesTooLarge failure
	}{
		{name: "at the limit", limit: kv3, ops: []hop{put(0, 1, 2, 3)}, size: kv3},
		{name: "one byte over", limit: kv3 - 1, ops: []hop{put(0, 1, 2, 3)},
			fail: "state writes would reach 36 bytes, the limit is 35"},
		{name: "overwrites count once", limit: kv3, size: kv3, ops: []hop{
			put(0, 1, 2, 3), put(0, 1, 2, 3), put(0, 1, 2, 3), put(0, 1, 2, 3), put(0, 1, 2, 3)}},
		{name: "a longer overwrite counts the difference", limit: kv3 - 1, ops: []hop{put(0, 1, 2, 1), put(0, 1, 2, 3)},
			fail: "would reach 36 bytes"},
		{name: "a shorter overwrite shrinks the set", limit: 1 + WriteOverhead + kv3, size: 1 + WriteOverhead + kv3,
			ops: []hop{put(0, 1, 2, 3), put(0, 1, 2, 0), put(1, 1, 2, 3)}},
		{name: "a delete counts its key", limit: 1 + WriteOverhead, size: 1 + WriteOverhead, ops: []hop{del(0, 1)}},
		{name: "a delete over the limit", limit: WriteOverhead, ops: []hop{del(0, 1)}, fail: "would reach 33 bytes"},
		{name: "deleting a staged put shrinks the set", limit: 1 + WriteOverhead + kv3, size: 1 + WriteOverhead + kv3,
			ops: []hop{put(0, 1, 2, 3), del(0, 1), put(1, 1, 2, 3)}},
		{name: "the empty key counts its overhead", limit: WriteOverhead, size: WriteOverhead, ops: []hop{put(0, 0, 0, 0)}},
		{name: "many tiny writes are bounded", limit: 50 * (1 + WriteOverhead), ops: many, keys: manyKeys,
			fail: "would reach 1683 bytes, the limit is 1650"},
		{name: "many tiny writes under the limit", limit: 100 * (1 + WriteOverhead), size: 100 * (1 + WriteOverhead), ops: many, keys: manyKeys},
		{name: "no limit", limit: 0, size: 100 * (1 + WriteOverhead), ops: many, keys: manyKeys},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var fuel []uint64
			for _, eng := range engines {
				r := newTestRuntime(t, eng.interpreter)
				res, err := r.Run(t.Context(), Call{
					Code: fixture(t, "hostcalls"), Entrypoint: "call",
					Input:       hostInput(tt.ops, append(append([]byte{}, payload...), tt.keys...)),
					MaxWriteSet: tt.limit,
				})
				if tt.fail == "" {
					if err != nil {
						t.Fatalf("%s: %v", eng.name, err)
					}
					if got := WriteSetSize(res.Writes); got != tt.size {
						t.Fatalf("%s: write set of %d bytes, want %d (%v)", eng.name, got, tt.size, res.Writes)
					}
					fuel = append(fuel, res.FuelUsed)
					continue
				}
				var we *Error
				if !errors.As(err, &we) || we.Kind != KindWritesTooLarge || !errors.Is(err, ErrWritesTooLarge) {
					t.Fatalf("%s: got %v, %v; want %s", eng.name, res, err, KindWritesTooLarge)
				}
				if !strings.Contains(we.Message, tt.fail) {
					t.Fatalf("%s: message %q, want it to contain %q", eng.name, we.Message, tt.fail)
				}
				if we.FuelUsed == 0 {
					t.Fatalf("%s: no fuel reported", eng.name)
				}
				fuel = append(fuel, we.FuelUsed)
			}
			if fuel[0] != fuel[1] {
				t.Fatalf("fuel differs between engines: %v", fuel)
			}
		})
	}
}

// TestOverlaySizeMatchesWrites checks the overlay's running size against
// WriteSetSize of its writes after every step of random puts and deletes
// over a small key space (so that keys are overwritten and deleted often).
func TestOverlaySizeMatchesWrites(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var o overlay
	for i := range 5000 {
		key := make([]byte, rng.IntN(4))
		for j := range key {
			key[j] = byte('a' + rng.IntN(3))
		}
		valueLen, deleted := rng.IntN(40), rng.IntN(3) == 0
		if deleted {
			valueLen = 0
		}
		want := o.sizeWith(key, valueLen)
		if deleted {
			o.del(key)
		} else {
			o.put(key, make([]byte, valueLen))
		}
		if o.size != want {
			t.Fatalf("step %d: sizeWith said %d, the write gave %d", i, want, o.size)
		}
		if got := WriteSetSize(o.writes()); got != o.size {
			t.Fatalf("step %d: running size %d, WriteSetSize of the writes %d", i, o.size, got)
		}
	}
}
