// Package guesttest runs ONVM program handlers natively, against an
// in-memory host that follows the node's host ABI return codes exactly
// (including its quirks: onvm_state_get returns 0 for an empty value and
// -needed for a short buffer), so that program logic is testable with plain
// `go test` on any platform.
//
// It is a test double, not the node: the authoritative host lives in
// internal/wasm. It must not be imported by programs built for wasip1.
package guesttest

import (
	"bytes"
	"maps"
	"slices"
	"sync"

	"github.com/zeebo/blake3"

	"github.com/onvm-network/onvm/guest"
	"github.com/onvm-network/onvm/internal/id"
)

// DefaultNowMs is the logical timestamp a new Host reports:
// 2023-11-14T22:13:20Z.
const DefaultNowMs int64 = 1_700_000_000_000

// Host is an in-memory node for one program. The zero value is not usable;
// call New. A Host is safe for use by one goroutine at a time.
type Host struct {
	mu     sync.Mutex
	state  map[string][]byte
	staged map[string][]byte // nil value = staged delete; nil map = no call running
	blobs  map[id.Blob][]byte
	logs   []Entry
	nowMs  int64
	rng    *blake3.Digest
}

// Entry is one onvm_log record.
type Entry struct {
	Level guest.Level
	Msg   string
}

// New returns a Host with empty state, no blobs, the clock at DefaultNowMs
// and the random stream seeded with the empty seed.
func New() *Host {
	h := &Host{state: map[string][]byte{}, blobs: map[id.Blob][]byte{}, nowMs: DefaultNowMs}
	h.SetSeed(nil)
	return h
}

// Call runs handler on input the way the node runs onvm_main: writes are
// staged during the call and committed only if the handler returns a nil
// error; on error (a trap on the node) they are discarded.
func (h *Host) Call(handler guest.Handler, input []byte) ([]byte, error) {
	h.mu.Lock()
	h.staged = map[string][]byte{}
	h.mu.Unlock()
	committed := false
	defer func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		if committed {
			for k, v := range h.staged {
				if v == nil {
					delete(h.state, k)
				} else {
					h.state[k] = v
				}
			}
		}
		h.staged = nil
	}()
	out, err := handler(guest.NewContext(abi{h}), slices.Clone(input))
	committed = err == nil
	return out, err
}

// Context returns a Context on this Host for calling SDK functions outside
// Call. Its writes are applied immediately.
func (h *Host) Context() *guest.Context { return guest.NewContext(abi{h}) }

// ABI returns h's raw host ABI, with the node's return codes, for tests
// that bind it to a WebAssembly runtime's imports. Its writes are applied
// immediately unless a Call is running.
func (h *Host) ABI() guest.Host { return abi{h} }

// Put sets key to value in the committed state.
func (h *Host) Put(key, value []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.state[string(key)] = bytes.Clone(nonNil(value))
}

// Value returns the committed value of key.
func (h *Host) Value(key []byte) ([]byte, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	v, ok := h.state[string(key)]
	return bytes.Clone(v), ok
}

// State returns a copy of the committed state.
func (h *Host) State() map[string][]byte {
	h.mu.Lock()
	defer h.mu.Unlock()
	return maps.Clone(h.state)
}

// AddBlob stores data as a blob and returns its id.
func (h *Host) AddBlob(data []byte) id.Blob {
	h.mu.Lock()
	defer h.mu.Unlock()
	b := id.BlobOf(data)
	h.blobs[b] = bytes.Clone(nonNil(data))
	return b
}

// SetNowMs sets the logical timestamp returned by onvm_now_ms.
func (h *Host) SetNowMs(ms int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.nowMs = ms
}

// SetSeed restarts the onvm_random_bytes stream from seed. The stream is
// the BLAKE3 extendable output of seed; the node's stream differs.
func (h *Host) SetSeed(seed []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	x := blake3.New()
	_, _ = x.Write(seed)
	h.rng = x.Digest()
}

// Logs returns the onvm_log records written so far.
func (h *Host) Logs() []Entry {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.logs)
}

func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}
