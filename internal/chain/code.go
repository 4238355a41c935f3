package chain

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/onvm-network/onvm/internal/blob"
	"github.com/onvm-network/onvm/internal/id"
	"github.com/onvm-network/onvm/internal/program"
	"github.com/onvm-network/onvm/internal/state"
	"github.com/onvm-network/onvm/internal/wasm"
)

func isNotFound(err error) bool {
	return errors.Is(err, program.ErrNotFound) || errors.Is(err, ErrNotFound)
}

// codeCache keeps instrumented modules in memory, bounded by bytes, so an
// execution does not read and hash megabytes of code from disk.
type codeCache struct {
	mu    sync.Mutex
	max   int64
	size  int64
	ll    *list.List // front = most recent; values *codeEntry
	items map[id.Blob]*list.Element
}

type codeEntry struct {
	b    id.Blob
	code []byte
}

func newCodeCache(max int64) *codeCache {
	return &codeCache{max: max, ll: list.New(), items: map[id.Blob]*list.Element{}}
}

func (c *codeCache) get(b id.Blob) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[b]; ok {
		c.ll.MoveToFront(el)
		return el.Value.(*codeEntry).code, true
	}
	return nil, false
}

func (c *codeCache) add(b id.Blob, code []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.items[b]; ok || int64(len(code)) > c.max {
		return
	}
	c.items[b] = c.ll.PushFront(&codeEntry{b, code})
	c.size += int64(len(code))
	for c.size > c.max {
		el := c.ll.Back()
		ent := el.Value.(*codeEntry)
		c.ll.Remove(el)
		delete(c.items, ent.b)
		c.size -= int64(len(ent.code))
	}
}

// loadCode returns the instrumented module b, verified by the blob store.
func (e *Engine) loadCode(ctx context.Context, b id.Blob) ([]byte, error) {
	if code, ok := e.code.get(b); ok {
		return code, nil
	}
	code, err := readBlob(ctx, e.blobs, b, wasm.MaxCodeSize*4)
	if err != nil {
		return nil, fmt.Errorf("load code %s: %w", b, err)
	}
	e.code.add(b, code)
	return code, nil
}

// BlobCode is the program.CodeSource of a blob store: the catalog checks
// a manifest against its code whenever the code is stored locally.
type BlobCode struct{ Blobs BlobStore }

// LocalCode returns blob b when it is complete locally.
func (c BlobCode) LocalCode(ctx context.Context, b id.Blob) ([]byte, bool, error) {
	info, err := c.Blobs.Stat(ctx, b)
	if errors.Is(err, blob.ErrNotFound) || (err == nil && !info.Complete) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	code, err := readBlob(ctx, c.Blobs, b, wasm.MaxCodeSize)
	if err != nil {
		return nil, false, err
	}
	return code, true, nil
}

// readBlob reads a whole blob of at most max bytes.
func readBlob(ctx context.Context, bs BlobStore, b id.Blob, max int64) ([]byte, error) {
	r, err := bs.Open(ctx, b)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	if r.Size() > max {
		return nil, fmt.Errorf("blob %s is %d bytes, more than %d", b, r.Size(), max)
	}
	buf := make([]byte, r.Size())
	if _, err := io.ReadFull(r, buf); err != nil {
		return nil, fmt.Errorf("read blob %s: %w", b, err)
	}
	return buf, nil
}

// stateView is the committed state of one program as the runtime reads it.
type stateView struct {
	s *state.Store
	p id.Program
}

func (v stateView) Get(k []byte) ([]byte, bool, error) { return v.s.Get(v.p, k) }

func (v stateView) List(prefix []byte) ([][]byte, error) { return v.s.List(v.p, prefix, 0) }

func (v stateView) Root(overlay []wasm.Write) (id.Hash, error) {
	return v.s.RootWith(v.p, stateWrites(overlay))
}

// blobView gives guests read access to local blobs, never the network.
type blobView struct {
	ctx context.Context
	bs  BlobStore
}

func (v blobView) Stat(b id.Blob) (int64, bool, error) {
	info, err := v.bs.Stat(v.ctx, b)
	if errors.Is(err, blob.ErrNotFound) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	return info.Size, info.Complete, nil
}

func (v blobView) ReadAll(b id.Blob, max int64) ([]byte, error) {
	return readBlob(v.ctx, v.bs, b, max)
}

// stateWrites converts the runtime's staged writes.
func stateWrites(ws []wasm.Write) []state.Write {
	out := make([]state.Write, len(ws))
	for i, w := range ws {
		out[i] = state.Write{Key: w.Key, Value: w.Value, Delete: w.Delete}
	}
	return out
}
