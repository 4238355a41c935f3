package p2p

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/protocol"
	"golang.org/x/time/rate"

	"github.com/onvm-network/onvm/internal/blob"
	"github.com/onvm-network/onvm/internal/codec"
	"github.com/onvm-network/onvm/internal/id"
)

// BlobProtocol moves verified blob data between peers (docs/protocol.md).
const BlobProtocol protocol.ID = "/onvm/blob/1.0.0"

// Blob protocol messages.
const (
	blobOpInfo   = 1 // → size, MIME type, then the outboard
	blobOpGroups = 2 // → Count groups from First
	blobOpReport = 3 // group First sent by this server did not verify → an empty answer

	blobOK         = 0
	blobNotFound   = 1
	blobBadRequest = 2

	maxBlobRequest   = 256
	maxBlobHeader    = 1024
	maxGroupsPerReq  = 64 // 4 MiB of data per response
	maxBlobMime      = 255
	blobServeTimeout = 2 * time.Minute
)

type blobReq struct {
	Op    uint8   `cbor:"1,keyasint"`
	Blob  id.Blob `cbor:"2,keyasint"`
	First uint64  `cbor:"3,keyasint"`
	Count uint32  `cbor:"4,keyasint"`
}

// blobResp heads a response; Length raw bytes follow it on the stream.
type blobResp struct {
	Status uint8  `cbor:"1,keyasint"`
	Size   int64  `cbor:"2,keyasint"`
	Mime   string `cbor:"3,keyasint"`
	Length uint64 `cbor:"4,keyasint"`
}

// BlobSource is what the blob protocol serves from: *blob.Store. Every
// byte it returns is verified against the blob id by the store.
type BlobSource interface {
	Stat(ctx context.Context, b id.Blob) (blob.Info, error)
	Outboard(ctx context.Context, b id.Blob) ([]byte, error)
	ReadGroup(ctx context.Context, b id.Blob, index int) ([]byte, error)
}

// peerOpener is the fast path of *blob.Store: a request is answered with
// one unverified read of the stored bytes into a pooled buffer and one
// write. The receiver verifies every group against the blob id before it
// stores it and reports a bad one back (blobOpReport), which this node then
// checks through ReadGroup, the verified path (docs/rationale/network.md).
type peerOpener interface {
	OpenForPeer(ctx context.Context, b id.Blob) (*blob.PeerReader, error)
}

// BlobStore is a BlobSource that can also import: *blob.Store.
type BlobStore interface {
	BlobSource
	BeginImport(ctx context.Context, b id.Blob, size int64, mime string, outboard []byte) (*blob.Import, error)
}

// BlobConfig configures a BlobService. Zero fields take the defaults noted.
type BlobConfig struct {
	MaxProviders       int           // providers fetched from in parallel (4)
	StreamsPerProvider int           // concurrent requests per provider (2)
	GroupsPerRequest   int           // groups per request, ≤ 64 (16: 1 MiB)
	RequestTimeout     time.Duration // one request and its response (30 s)
	FindTimeout        time.Duration // a DHT provider lookup (10 s)
	Rate               rate.Limit    // requests served per second per peer (400)
	Burst              int           // their burst (800)
	StreamsPerPeer     int           // concurrent streams served per peer (8)
	MaxSize            int64         // largest blob fetched (blob.DefaultMaxSize)
}

func (c *BlobConfig) defaults() {
	if c.MaxProviders <= 0 {
		c.MaxProviders = 4
	}
	if c.StreamsPerProvider <= 0 {
		c.StreamsPerProvider = 2
	}
	if c.GroupsPerRequest <= 0 {
		c.GroupsPerRequest = 16
	}
	c.GroupsPerRequest = min(c.GroupsPerRequest, maxGroupsPerReq)
	if c.RequestTimeout <= 0 {
		c.RequestTimeout = 30 * time.Second
	}
	if c.FindTimeout <= 0 {
		c.FindTimeout = 10 * time.Second
	}
	if c.Rate <= 0 {
		c.Rate = 400
	}
	if c.Burst <= 0 {
		c.Burst = 800
	}
	if c.StreamsPerPeer <= 0 {
		c.StreamsPerPeer = 8
	}
	if c.MaxSize <= 0 {
		c.MaxSize = blob.DefaultMaxSize
	}
}

// BlobService serves blobs to peers and fetches missing ones from them.
type BlobService struct {
	h         host.Host
	store     BlobStore
	providers *ProviderBook
	disc      *Discovery // nil: no DHT lookups
	scores    *Scores
	cfg       BlobConfig
	log       *slog.Logger
	serving   *peerLimiter

	mu       sync.Mutex
	inflight map[id.Blob]*fetchCall
}

// NewBlobService registers the blob protocol handler on h. disc may be nil.
func NewBlobService(h host.Host, store BlobStore, providers *ProviderBook, disc *Discovery, scores *Scores, cfg BlobConfig, log *slog.Logger) *BlobService {
	cfg.defaults()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &BlobService{h: h, store: store, providers: providers, disc: disc, scores: scores, cfg: cfg, log: log,
		serving: newPeerLimiter(cfg.Rate, cfg.Burst, cfg.StreamsPerPeer), inflight: make(map[id.Blob]*fetchCall)}
	h.SetStreamHandler(BlobProtocol, s.serve)
	return s
}

// serve answers requests on one stream until the peer closes it.
func (s *BlobService) serve(st network.Stream) {
	p := st.Conn().RemotePeer()
	if s.scores.Banned(p) || !s.serving.acquire(p) {
		_ = st.Reset()
		return
	}
	defer s.serving.release(p)
	ctx, cancel := context.WithTimeout(context.Background(), blobServeTimeout)
	defer cancel()
	stop := context.AfterFunc(ctx, func() { _ = st.Reset() })
	defer stop()
	r := bufio.NewReaderSize(st, 512)
	w := bufio.NewWriterSize(st, 256<<10)
	for {
		_ = st.SetDeadline(time.Now().Add(s.cfg.RequestTimeout))
		var req blobReq
		if err := readMsg(r, maxBlobRequest, &req); err != nil {
			if errors.Is(err, io.EOF) {
				_ = st.Close()
			} else {
				s.scores.Penalize(p, PenaltyProtocol)
				_ = st.Reset()
			}
			return
		}
		if !s.serving.allow(p) {
			s.scores.Penalize(p, PenaltyRateLimit)
			_ = st.Reset()
			return
		}
		if err := s.answer(ctx, w, st, &req); err != nil {
			s.log.Debug("blob request failed", "peer", p.String(), "blob", req.Blob.String(), "err", err)
			_ = st.Reset()
			return
		}
		if err := w.Flush(); err != nil {
			_ = st.Reset()
			return
		}
	}
}

func (s *BlobService) answer(ctx context.Context, w *bufio.Writer, st io.Writer, req *blobReq) error {
	info, err := s.store.Stat(ctx, req.Blob)
	if err != nil || !info.Complete {
		return writeMsg(w, &blobResp{Status: blobNotFound})
	}
	switch req.Op {
	case blobOpInfo:
		ob, err := s.store.Outboard(ctx, req.Blob)
		if err != nil {
			return writeMsg(w, &blobResp{Status: blobNotFound})
		}
		if err := writeMsg(w, &blobResp{Size: info.Size, Mime: info.MIME, Length: uint64(len(ob))}); err != nil {
			return err
		}
		_, err = w.Write(ob)
		return err
	case blobOpGroups:
		groups := uint64(blob.Groups(info.Size))
		if req.Count == 0 || req.Count > maxGroupsPerReq || req.First >= groups || req.First+uint64(req.Count) > groups {
			return writeMsg(w, &blobResp{Status: blobBadRequest})
		}
		length := groupsLen(info.Size, int64(req.First), int64(req.Count))
		if o, ok := s.store.(peerOpener); ok {
			return s.answerFast(ctx, w, st, o, req, info.Size, length)
		}
		if err := writeMsg(w, &blobResp{Size: info.Size, Length: uint64(length)}); err != nil {
			return err
		}
		for i := range int(req.Count) {
			g, err := s.store.ReadGroup(ctx, req.Blob, int(req.First)+i)
			if err != nil {
				return err // the peer sees a reset, not bad bytes
			}
			if _, err := w.Write(g); err != nil {
				return err
			}
		}
		return nil
	case blobOpReport:
		if req.First >= uint64(blob.Groups(info.Size)) {
			return writeMsg(w, &blobResp{Status: blobBadRequest})
		}
		// The verified read marks the blob corrupt (no longer served,
		// repaired by the next fetch) if the peer was right.
		if _, err := s.store.ReadGroup(ctx, req.Blob, int(req.First)); errors.Is(err, blob.ErrCorrupt) {
			s.log.Warn("a peer reported a corrupt blob group, confirmed", "blob", req.Blob.String(), "err", err)
		}
		return writeMsg(w, &blobResp{Size: info.Size})
	default:
		return writeMsg(w, &blobResp{Status: blobBadRequest})
	}
}

// blobBufs holds response buffers (header room plus serveChunk bytes) for
// answerFast.
var blobBufs = sync.Pool{New: func() any { b := make([]byte, respRoom+serveChunk); return &b }}

// respRoom is the room kept before the data in a response buffer for the
// frame of its blobResp (at most 10 bytes of length and a few dozen of CBOR).
const respRoom = 64

// serveChunk is how much answerFast reads before it writes: small enough
// that the bytes are still in the CPU cache when Yamux copies them (one
// read of a whole 1 MiB range was measurably slower), large enough that the
// calls cost nothing next to the copies.
const serveChunk = 4 * blob.GroupSize

// answerFast answers a request for length bytes of groups with the stored,
// unverified bytes, read in chunks into a pooled buffer whose first chunk
// follows the response header, each chunk written straight to the stream.
func (s *BlobService) answerFast(ctx context.Context, w *bufio.Writer, st io.Writer, o peerOpener, req *blobReq, size, length int64) error {
	hdr, err := codec.Marshal(&blobResp{Size: size, Length: uint64(length)})
	if err != nil {
		return err
	}
	var pre [binary.MaxVarintLen64]byte
	pn := binary.PutUvarint(pre[:], uint64(len(hdr)))
	start := respRoom - pn - len(hdr)
	if start < 0 {
		return fmt.Errorf("blob response header of %d bytes", len(hdr))
	}
	if err := w.Flush(); err != nil { // nothing buffered may follow the data
		return err
	}
	bp := blobBufs.Get().(*[]byte)
	defer blobBufs.Put(bp)
	buf := *bp
	copy(buf[start:], pre[:pn])
	copy(buf[start+pn:], hdr)
	r, err := o.OpenForPeer(ctx, req.Blob)
	if err != nil {
		return err
	}
	defer func() { _ = r.Close() }()
	off := int64(req.First) * blob.GroupSize
	from := start // the first write carries the header
	for sent := int64(0); sent == 0 || sent < length; from = respRoom {
		n := min(serveChunk, length-sent)
		if _, err := r.ReadAt(buf[respRoom:respRoom+n], off+sent); err != nil {
			return err
		}
		if _, err := st.Write(buf[from : respRoom+n]); err != nil {
			return err
		}
		if sent += n; n == 0 {
			break // an empty blob: the header alone
		}
	}
	return nil
}

// groupLen is the length of group i of a blob of the given size.
func groupLen(size, i int64) int64 { return min(blob.GroupSize, size-i*blob.GroupSize) }

// groupsLen is the total length of count groups from first.
func groupsLen(size, first, count int64) int64 {
	last := first + count - 1
	return (count-1)*blob.GroupSize + groupLen(size, last)
}
