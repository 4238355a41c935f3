package wasm

import (
	"encoding/binary"
	"errors"
	"math"

	"github.com/tetratelabs/wazero/api"
)

// State host functions (notes §5.4). Writes are staged in the call's
// overlay; reads see the overlay first, then committed state. Return codes
// are the original's; a negative or out-of-range pointer or length is the
// code of a failed read (-2 for keys) or write, never a trap. The one trap
// is the call's write-set limit (Call.MaxWriteSet), a limit like fuel.

// onvm_state_put(key_ptr, key_len, val_ptr, val_len) -> 0 | -2 key | -3 value
func statePut(s *callState, mem api.Memory, st []uint64) {
	key, ok := s.read(mem, arg(st, 0), arg(st, 1))
	if !ok {
		ret32(st, -2)
		return
	}
	val, ok := s.read(mem, arg(st, 2), arg(st, 3))
	if !ok {
		ret32(st, -3)
		return
	}
	s.fuel.charge(uint64(len(key)+len(val)) * CostStateWriteByte)
	s.checkWriteSet(key, len(val))
	s.overlay.put(key, val)
	ret32(st, 0)
}

// onvm_state_del(key_ptr, key_len) -> 0 | -2 key
func stateDel(s *callState, mem api.Memory, st []uint64) {
	key, ok := s.read(mem, arg(st, 0), arg(st, 1))
	if !ok {
		ret32(st, -2)
		return
	}
	s.checkWriteSet(key, 0)
	s.overlay.del(key)
	ret32(st, 0)
}

// errWritesTooLarge is panicked by onvm_state_put or onvm_state_del when
// the write would take the call's write set beyond Call.MaxWriteSet;
// wazero returns it from the call, which fails with KindWritesTooLarge.
var errWritesTooLarge = errors.New("state writes over the call's limit")

// checkWriteSet stops the call (errWritesTooLarge) when staging a write of
// key with a value of valueLen bytes (0: a delete) would take the write
// set, as it would be after the write, beyond the call's limit. Since the
// last write of a key replaces the earlier ones, overwriting a key with a
// value no longer than its staged one never fails. Which write fails
// depends only on the call's writes: the failure is deterministic.
func (s *callState) checkWriteSet(key []byte, valueLen int) {
	limit := s.call.MaxWriteSet
	if limit <= 0 {
		return
	}
	if n := s.overlay.sizeWith(key, valueLen); n > limit {
		s.writesRefused = n
		panic(errWritesTooLarge)
	}
}

// lookup returns the value of key as the guest sees it.
func (s *callState) lookup(key []byte) (value []byte, found bool, err error) {
	if e, ok := s.overlay.get(key); ok {
		return e.value, !e.deleted, nil
	}
	if s.call.State == nil {
		return nil, false, nil
	}
	return s.call.State.Get(key)
}

// onvm_state_get(key_ptr, key_len, out_ptr, out_cap) -> len; 0 if missing
// OR EMPTY (B20, kept: guest-visible); -len if out_cap is too small;
// -2 key; -3 store error; -4 write failure.
func stateGet(s *callState, mem api.Memory, st []uint64) {
	key, ok := s.view(mem, arg(st, 0), arg(st, 1))
	if !ok {
		ret32(st, -2)
		return
	}
	val, found, err := s.lookup(key)
	switch {
	case err != nil:
		ret32(st, -3)
	case !found || len(val) == 0:
		ret32(st, 0)
	case len(val) > math.MaxInt32:
		ret32(st, -3)
	case int64(arg(st, 3)) < int64(len(val)):
		ret32(st, -int32(len(val)))
	case !s.write(mem, arg(st, 2), val):
		ret32(st, -4)
	default:
		ret32(st, int32(len(val)))
	}
}

// onvm_state_exists(key_ptr, key_len) -> 1 | 0 | -2 key | -3 store error
func stateExists(s *callState, mem api.Memory, st []uint64) {
	key, ok := s.view(mem, arg(st, 0), arg(st, 1))
	if !ok {
		ret32(st, -2)
		return
	}
	_, found, err := s.lookup(key)
	switch {
	case err != nil:
		ret32(st, -3)
	case found:
		ret32(st, 1)
	default:
		ret32(st, 0)
	}
}

// onvm_state_len(key_ptr, key_len) -> i64 len | -1 missing | -2 key | -3 store error
func stateLen(s *callState, mem api.Memory, st []uint64) {
	key, ok := s.view(mem, arg(st, 0), arg(st, 1))
	if !ok {
		ret64(st, -2)
		return
	}
	val, found, err := s.lookup(key)
	switch {
	case err != nil:
		ret64(st, -3)
	case !found:
		ret64(st, -1)
	default:
		ret64(st, int64(len(val)))
	}
}

// onvm_state_list(prefix_ptr, prefix_len, out_ptr, out_cap) -> total bytes
// of repeated [u32 LE key_len][key], keys sorted bytewise; -total if out_cap
// is too small; -2 prefix; -3 store error; -4 write failure.
func stateList(s *callState, mem api.Memory, st []uint64) {
	prefix, ok := s.read(mem, arg(st, 0), arg(st, 1))
	if !ok {
		ret32(st, -2)
		return
	}
	var committed [][]byte
	if s.call.State != nil {
		var err error
		if committed, err = s.call.State.List(prefix); err != nil {
			ret32(st, -3)
			return
		}
	}
	keys := s.overlay.list(committed, prefix)
	s.fuel.charge(uint64(len(keys)) * CostStateListKey)
	total := 0
	for _, k := range keys {
		total += 4 + len(k)
	}
	if total > math.MaxInt32 {
		ret32(st, -3)
		return
	}
	if int64(arg(st, 3)) < int64(total) {
		ret32(st, -int32(total))
		return
	}
	buf := make([]byte, 0, total)
	for _, k := range keys {
		buf = binary.LittleEndian.AppendUint32(buf, uint32(len(k)))
		buf = append(buf, k...)
	}
	if !s.write(mem, arg(st, 2), buf) {
		ret32(st, -4)
		return
	}
	ret32(st, int32(total))
}

// onvm_state_root(out_ptr) -> 0 | -2 store error (or no state) | -3 write failure
func stateRoot(s *callState, mem api.Memory, st []uint64) {
	if s.call.State == nil {
		ret32(st, -2)
		return
	}
	writes := s.overlay.writes()
	s.fuel.charge(uint64(len(writes)) * CostStateRootWrite)
	root, err := s.call.State.Root(writes)
	if err != nil {
		ret32(st, -2)
		return
	}
	if !s.write(mem, arg(st, 0), root[:]) {
		ret32(st, -3)
		return
	}
	ret32(st, 0)
}
