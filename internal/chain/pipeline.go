package chain

import (
	"bytes"
	"slices"

	"github.com/onvm-network/onvm/internal/id"
	"github.com/onvm-network/onvm/internal/state"
	"github.com/onvm-network/onvm/internal/wasm"
)

// inflight is a transition whose state, height and head are decided — the
// program's lock was released after its writes were staged — but whose
// batch is not applied yet: its receipt is being signed, its records staged
// and its batch applied outside the lock, while the program's next
// execution runs its guest (see Execute, and docs/rationale/execution.md,
// "Why is the receipt signed outside the program's lock?"). At most one
// transition of a program is in flight: the next one stages its own writes
// only after this one's batch is applied (settle), so batches apply in
// height order.
type inflight struct {
	head   Head          // the program's head once applied
	writes []state.Write // sorted by key, one per key: what the next guest reads through
	rid    id.Hash       // its receipt's request id
	done   chan struct{} // closed once the batch is applied, or abandoned
	err    error         // set before done is closed when the batch was abandoned
}

// settle waits for p's transition in flight, if any, and makes its head
// the program's head when its batch was applied. It reports false when the
// transition was abandoned (a guest run against its writes must run
// again). c.mu is held; the in-flight transition never needs it.
func (c *programChain) settle() bool {
	fl := c.next
	if fl == nil {
		return true
	}
	<-fl.done
	c.next = nil
	if fl.err != nil {
		return false
	}
	c.head = fl.head
	return true
}

// applied reports whether fl is no longer in flight (applied or abandoned).
func (fl *inflight) applied() bool {
	select {
	case <-fl.done:
		return true
	default:
		return false
	}
}

// overlayView is the program's committed state as its transition in flight
// will leave it: the in-flight writes over the committed state. It gives
// the same answers whether or not the in-flight batch has been applied in
// the meantime (applying the writes again changes nothing), so the next
// guest may run while the previous transition is still being sealed.
type overlayView struct {
	base stateView
	over []state.Write // sorted by key, one per key
}

func (v overlayView) find(k []byte) (state.Write, bool) {
	i, ok := slices.BinarySearchFunc(v.over, k, func(w state.Write, k []byte) int { return bytes.Compare(w.Key, k) })
	if !ok {
		return state.Write{}, false
	}
	return v.over[i], true
}

func (v overlayView) Get(k []byte) ([]byte, bool, error) {
	if w, ok := v.find(k); ok {
		if w.Delete {
			return nil, false, nil
		}
		return bytes.Clone(w.Value), true, nil
	}
	return v.base.Get(k)
}

func (v overlayView) List(prefix []byte) ([][]byte, error) {
	keys, err := v.base.List(prefix)
	if err != nil {
		return nil, err
	}
	for _, w := range v.over {
		if !bytes.HasPrefix(w.Key, prefix) {
			continue
		}
		i, found := slices.BinarySearchFunc(keys, w.Key, bytes.Compare)
		switch {
		case w.Delete && found:
			keys = slices.Delete(keys, i, i+1)
		case !w.Delete && !found:
			keys = slices.Insert(keys, i, bytes.Clone(w.Key))
		}
	}
	return keys, nil
}

func (v overlayView) Root(overlay []wasm.Write) (id.Hash, error) {
	all := make([]state.Write, 0, len(v.over)+len(overlay))
	all = append(all, v.over...)
	all = append(all, stateWrites(overlay)...) // later writes of a key override earlier ones
	return v.base.s.RootWith(v.base.p, all)
}
