package p2p

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	mocknet "github.com/libp2p/go-libp2p/p2p/net/mock"
	"github.com/multiformats/go-multiaddr"

	"github.com/onvm-network/onvm/internal/blob"
	"github.com/onvm-network/onvm/internal/dag/dagtest"
	"github.com/onvm-network/onvm/internal/id"
)

// faultySource serves a store group by group (it has no Open, so the
// server cannot take its fast path), optionally flipping one byte of every
// group it serves, or calling cut once it has served cutAfter groups.
type faultySource struct {
	store    *blob.Store
	flip     bool
	served   atomic.Int64
	cutAfter int64
	cut      atomic.Pointer[func()] // read by serving goroutines while a test changes it
}

func (f *faultySource) Stat(ctx context.Context, b id.Blob) (blob.Info, error) {
	return f.store.Stat(ctx, b)
}

func (f *faultySource) Outboard(ctx context.Context, b id.Blob) ([]byte, error) {
	return f.store.Outboard(ctx, b)
}

func (f *faultySource) BeginImport(ctx context.Context, b id.Blob, size int64, mime string, ob []byte) (*blob.Import, error) {
	return f.store.BeginImport(ctx, b, size, mime, ob)
}

func (f *faultySource) ReadGroup(ctx context.Context, b id.Blob, i int) ([]byte, error) {
	if cut := f.cut.Load(); cut != nil && f.served.Load() >= f.cutAfter {
		(*cut)()
		return nil, errors.New("connection cut")
	}
	g, err := f.store.ReadGroup(ctx, b, i)
	if err != nil {
		return nil, err
	}
	f.served.Add(1)
	if f.flip {
		g = bytes.Clone(g)
		g[len(g)/2] ^= 0x40
	}
	return g, nil
}

type blobNode struct {
	h     host.Host
	dir   string // the store's directory
	store *blob.Store
	src   *faultySource
	svc   *BlobService
}

// newBlobNodes returns n connected nodes; faulty ones serve through a
// faultySource, the others straight from their store.
func newBlobNodes(t *testing.T, n int, faulty ...int) (mocknet.Mocknet, []*blobNode) {
	t.Helper()
	mn := mocknet.New()
	t.Cleanup(func() { _ = mn.Close() })
	var out []*blobNode
	for i := range n {
		priv, _ := crypto.UnmarshalEd25519PrivateKey(dagtest.Key(200 + i))
		h, err := mn.AddPeer(priv, multiaddr.StringCast(fmt.Sprintf("/ip4/10.9.0.%d/tcp/1", i+1)))
		if err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		st, err := blob.Open(blob.Options{Dir: dir, DB: dagtest.DB(t)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = st.Close() })
		src := &faultySource{store: st}
		var served BlobStore = st
		if slices.Contains(faulty, i) {
			served = src
		}
		svc := NewBlobService(h, served, NewProviderBook(), nil, NewScores(), BlobConfig{GroupsPerRequest: 4}, nil)
		out = append(out, &blobNode{h: h, dir: dir, store: st, src: src, svc: svc})
	}
	if err := mn.LinkAll(); err != nil {
		t.Fatal(err)
	}
	if err := mn.ConnectAllButSelf(); err != nil {
		t.Fatal(err)
	}
	return mn, out
}

func randomBlob(t *testing.T, size int, seed uint64) []byte {
	t.Helper()
	b := make([]byte, size)
	r := rand.New(rand.NewPCG(seed, seed))
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func put(t *testing.T, n *blobNode, data []byte) id.Blob {
	t.Helper()
	info, _, err := n.store.Put(context.Background(), bytes.NewReader(data), "application/test")
	if err != nil {
		t.Fatal(err)
	}
	return info.ID
}

func readAll(t *testing.T, n *blobNode, b id.Blob) []byte {
	t.Helper()
	r, err := n.store.Open(context.Background(), b)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	got, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func TestBlobFetch(t *testing.T) {
	tests := []struct {
		name string
		size int
	}{
		{"empty", 0},
		{"one byte", 1},
		{"one group", int(blob.GroupSize)},
		{"several groups and a tail", 3<<20 + 123},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, nodes := newBlobNodes(t, 2)
			data := randomBlob(t, tt.size, uint64(tt.size))
			b := put(t, nodes[0], data)
			info, err := nodes[1].svc.Fetch(t.Context(), b, nodes[0].h.ID())
			if err != nil {
				t.Fatal(err)
			}
			if !info.Complete || info.Size != int64(tt.size) || info.MIME != "application/test" {
				t.Fatalf("info %+v", info)
			}
			if !bytes.Equal(readAll(t, nodes[1], b), data) {
				t.Fatal("fetched bytes differ")
			}
		})
	}
}

func TestBlobFetchUnknown(t *testing.T) {
	_, nodes := newBlobNodes(t, 2)
	_, err := nodes[1].svc.Fetch(t.Context(), id.BlobOf([]byte("nobody has this")), nodes[0].h.ID())
	if !errors.Is(err, ErrNoProviders) && !errors.Is(err, ErrRemote) {
		t.Fatalf("Fetch = %v", err)
	}
	if _, err := nodes[1].svc.Fetch(t.Context(), id.Blob{1}); !errors.Is(err, ErrNoProviders) {
		t.Fatalf("Fetch without providers = %v", err)
	}
}

// TestBlobFetchBadProvider has one of two providers flip a byte in every
// group it serves: the fetch detects it, drops and penalises that provider,
// and completes from the honest one.
func TestBlobFetchBadProvider(t *testing.T) {
	_, nodes := newBlobNodes(t, 3, 1)
	honest, liar, fetcher := nodes[0], nodes[1], nodes[2]
	data := randomBlob(t, 2<<20+7, 1)
	b := put(t, honest, data)
	put(t, liar, data)
	liar.src.flip = true
	info, err := fetcher.svc.Fetch(t.Context(), b, liar.h.ID(), honest.h.ID())
	if err != nil {
		t.Fatal(err)
	}
	if !info.Complete || !bytes.Equal(readAll(t, fetcher, b), data) {
		t.Fatal("wrong content")
	}
	if liar.src.served.Load() == 0 {
		t.Fatal("the liar was never asked: the test proves nothing")
	}
	if s := fetcher.svc.scores.Score(liar.h.ID()); s > -PenaltyBadBlobData {
		t.Fatalf("liar's score %v", s)
	}
	if s := fetcher.svc.scores.Score(honest.h.ID()); s != 0 {
		t.Fatalf("honest provider's score %v", s)
	}
	for _, p := range fetcher.svc.providers.Get(id.Hash(b)) {
		if p == liar.h.ID() {
			t.Fatal("liar still listed as a provider")
		}
	}
}

// TestBlobFetchCorruptDisk damages one byte of a provider's stored file.
// The provider serves peers without verifying (the fast path), so the byte
// goes out; the fetcher catches it, drops and penalises the provider, and
// reports the group, which makes the provider check its copy and stop
// serving it. The fetch then completes from an honest provider.
func TestBlobFetchCorruptDisk(t *testing.T) {
	_, nodes := newBlobNodes(t, 3)
	damaged, honest, fetcher := nodes[0], nodes[1], nodes[2]
	data := randomBlob(t, 2<<20+7, 5)
	b := put(t, damaged, data)
	put(t, honest, data)
	const off = 5*blob.GroupSize + 123 // in group 5
	flipFileByte(t, filepath.Join(damaged.dir, id.Hash(b).String()), off)

	if _, err := fetcher.svc.Fetch(t.Context(), b, damaged.h.ID()); !errors.Is(err, ErrNoProviders) {
		t.Fatalf("Fetch from the damaged provider alone = %v, want ErrNoProviders", err)
	}
	if s := fetcher.svc.scores.Score(damaged.h.ID()); s > -PenaltyBadBlobData/2 { // scores decay with time
		t.Fatalf("damaged provider's score %v", s)
	}
	st, err := damaged.store.Stat(t.Context(), b)
	if err != nil || st.Complete {
		t.Fatalf("damaged provider after the report: %+v, %v; want incomplete", st, err)
	}
	if _, err := fetcher.svc.Fetch(t.Context(), b, honest.h.ID()); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(readAll(t, fetcher, b), data) {
		t.Fatal("wrong content")
	}
}

func flipFileByte(t *testing.T, name string, off int64) {
	t.Helper()
	f, err := os.OpenFile(name, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var one [1]byte
	if _, err := f.ReadAt(one[:], off); err != nil {
		t.Fatal(err)
	}
	one[0] ^= 0x08
	if _, err := f.WriteAt(one[:], off); err != nil {
		t.Fatal(err)
	}
}

// TestBlobResume cuts the only provider's connection mid-transfer: the
// fetch fails but keeps the verified groups, and the next fetch asks only
// for the rest.
func TestBlobResume(t *testing.T) {
	mn, nodes := newBlobNodes(t, 2, 0)
	src, dst := nodes[0], nodes[1]
	data := randomBlob(t, 4<<20, 2)
	b := put(t, src, data)
	total := blob.Groups(int64(len(data)))
	var once atomic.Bool
	src.src.cutAfter = 20
	cut := func() {
		if once.CompareAndSwap(false, true) {
			_ = mn.UnlinkPeers(src.h.ID(), dst.h.ID())
			_ = mn.DisconnectPeers(src.h.ID(), dst.h.ID())
		}
	}
	src.src.cut.Store(&cut)
	if _, err := dst.svc.Fetch(t.Context(), b, src.h.ID()); !errors.Is(err, ErrNoProviders) {
		t.Fatalf("Fetch across a cut = %v", err)
	}
	imp, err := dst.store.BeginImport(t.Context(), b, int64(len(data)), "", mustOutboard(t, src, b))
	if err != nil {
		t.Fatal(err)
	}
	have := total - int64(len(imp.Missing()))
	_ = imp.Abort()
	if have == 0 || have >= total {
		t.Fatalf("kept %d of %d groups", have, total)
	}

	src.src.cut.Store(nil)
	src.src.served.Store(0)
	if _, err := mn.LinkPeers(src.h.ID(), dst.h.ID()); err != nil {
		t.Fatal(err)
	}
	if _, err := dst.svc.Fetch(t.Context(), b, src.h.ID()); err != nil {
		t.Fatal(err)
	}
	if served := src.src.served.Load(); served != total-have {
		t.Fatalf("resumed fetch asked for %d groups, want the %d missing", served, total-have)
	}
	if !bytes.Equal(readAll(t, dst, b), data) {
		t.Fatal("wrong content")
	}
}

// TestBlobProviderDropsMidway loses one of two providers mid-transfer; the
// other completes the fetch.
func TestBlobProviderDropsMidway(t *testing.T) {
	mn, nodes := newBlobNodes(t, 3, 0, 1)
	a, c, dst := nodes[0], nodes[1], nodes[2]
	data := randomBlob(t, 4<<20, 3)
	b := put(t, a, data)
	put(t, c, data)
	var once atomic.Bool
	c.src.cutAfter = 8
	cut := func() {
		if once.CompareAndSwap(false, true) {
			_ = mn.UnlinkPeers(c.h.ID(), dst.h.ID())
			_ = mn.DisconnectPeers(c.h.ID(), dst.h.ID())
		}
	}
	c.src.cut.Store(&cut)
	if _, err := dst.svc.Fetch(t.Context(), b, c.h.ID(), a.h.ID()); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(readAll(t, dst, b), data) {
		t.Fatal("wrong content")
	}
	if c.src.served.Load() == 0 || a.src.served.Load() == 0 {
		t.Fatalf("served: dropped provider %d, other %d", c.src.served.Load(), a.src.served.Load())
	}
	if s := dst.svc.scores.Score(c.h.ID()); s != 0 {
		t.Fatalf("a provider that disconnected was penalised (%v)", s)
	}
}

func mustOutboard(t *testing.T, n *blobNode, b id.Blob) []byte {
	t.Helper()
	ob, err := n.store.Outboard(t.Context(), b)
	if err != nil {
		t.Fatal(err)
	}
	return ob
}
