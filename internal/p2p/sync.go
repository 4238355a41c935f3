package p2p

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/libp2p/go-libp2p/core/event"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	"golang.org/x/time/rate"

	"github.com/onvm-network/onvm/internal/dag"
	"github.com/onvm-network/onvm/internal/id"
)

// SyncProtocol is the DAG anti-entropy protocol (docs/protocol.md).
const SyncProtocol protocol.ID = "/onvm/sync/2.0.0"

// Sync message limits.
const (
	syncOpSummary   = 1
	syncOpPull      = 2
	syncOpGet       = 3
	maxSyncRequest  = 4 << 20
	maxSyncResponse = 16 << 20
	maxVVEntries    = 65536
	maxHeads        = 1024
	maxGetIDs       = 1024
	syncBatchCount  = 1024
	syncBatchBytes  = 8 << 20 // ≥ dag.MaxVertexSize, so any vertex fits
	syncScanLimit   = 1 << 16
	maxGetRounds    = 64
)

// syncReq is a request on a sync stream.
type syncReq struct {
	Op   uint8         `cbor:"1,keyasint"`
	VV   []dag.VVEntry `cbor:"2,keyasint"` // pull: the requester's version vector
	From uint64        `cbor:"3,keyasint"` // pull: position to resume from; 0 lets the server choose
	IDs  []id.Hash     `cbor:"4,keyasint"` // get: vertices wanted by id
}

// syncResp answers one syncReq.
type syncResp struct {
	VV       []dag.VVEntry `cbor:"1,keyasint"` // summary
	Heads    []id.Hash     `cbor:"2,keyasint"` // summary
	Vertices [][]byte      `cbor:"3,keyasint"` // pull, get: canonical vertex bytes, causal order
	Next     uint64        `cbor:"4,keyasint"` // pull: where to continue
	Done     bool          `cbor:"5,keyasint"` // pull: nothing more after Next
}

// SyncConfig configures a Syncer. Zero fields take the defaults noted.
type SyncConfig struct {
	Interval      time.Duration // periodic anti-entropy round (10 s)
	Peers         int           // peers per periodic round (3)
	Workers       int           // concurrent outgoing syncs (2)
	Timeout       time.Duration // whole session, either side (2 min)
	IdleTimeout   time.Duration // wait for one message (30 s)
	Rate          rate.Limit    // requests per second served per peer (20)
	Burst         int           // their burst (100)
	SessionsLimit int           // concurrent sessions served per peer (2)
}

func (c *SyncConfig) defaults() {
	if c.Interval <= 0 {
		c.Interval = 10 * time.Second
	}
	if c.Peers <= 0 {
		c.Peers = 3
	}
	if c.Workers <= 0 {
		c.Workers = 2
	}
	if c.Timeout <= 0 {
		c.Timeout = 2 * time.Minute
	}
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = 30 * time.Second
	}
	if c.Rate <= 0 {
		c.Rate = 20
	}
	if c.Burst <= 0 {
		c.Burst = 100
	}
	if c.SessionsLimit <= 0 {
		c.SessionsLimit = 2
	}
}

// SyncStats counts what the syncer did since it started.
type SyncStats struct {
	Sessions  uint64 // outgoing sessions completed
	Failures  uint64 // outgoing sessions that failed
	Received  uint64 // vertices received (accepted, duplicate or buffered)
	Accepted  uint64 // of which accepted
	Rejected  uint64 // of which rejected
	ServedReq uint64 // requests served
}

// Syncer runs the sync protocol: it serves peers' pulls and pulls from
// peers on connect, on Trigger and periodically.
type Syncer struct {
	h      host.Host
	d      *dag.DAG
	cfg    SyncConfig
	scores *Scores
	log    *slog.Logger

	sessions *peerLimiter // served sessions per peer
	requests *peerLimiter // served requests per peer

	mu      sync.Mutex
	queued  map[peer.ID]bool
	running map[peer.ID]bool // one outgoing session per peer at a time
	again   map[peer.ID]bool // triggered while running: sync once more after
	queue   chan peer.ID

	sessionsDone, failures, received, accepted, rejected, served atomic.Uint64
}

// NewSyncer registers the sync protocol handler on h. Start runs the
// outgoing side.
func NewSyncer(h host.Host, d *dag.DAG, scores *Scores, cfg SyncConfig, log *slog.Logger) *Syncer {
	cfg.defaults()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Syncer{
		h: h, d: d, cfg: cfg, scores: scores, log: log,
		sessions: newPeerLimiter(rate.Limit(cfg.Rate), cfg.Burst, cfg.SessionsLimit),
		requests: newPeerLimiter(cfg.Rate, cfg.Burst, 1<<30),
		queued:   make(map[peer.ID]bool),
		running:  make(map[peer.ID]bool),
		again:    make(map[peer.ID]bool),
		queue:    make(chan peer.ID, 256),
	}
	h.SetStreamHandler(SyncProtocol, s.serve)
	return s
}

// Stats returns the syncer's counters.
func (s *Syncer) Stats() SyncStats {
	return SyncStats{Sessions: s.sessionsDone.Load(), Failures: s.failures.Load(), Received: s.received.Load(),
		Accepted: s.accepted.Load(), Rejected: s.rejected.Load(), ServedReq: s.served.Load()}
}

// Start runs the outgoing side until ctx ends: workers that sync with
// triggered peers, a periodic round over random peers, and a sync with
// every newly identified ONVM peer. wg owns the goroutines.
func (s *Syncer) Start(ctx context.Context, wg *sync.WaitGroup) error {
	sub, err := s.h.EventBus().Subscribe(new(event.EvtPeerIdentificationCompleted))
	if err != nil {
		return fmt.Errorf("start sync: %w", err)
	}
	for range s.cfg.Workers {
		wg.Go(func() { s.worker(ctx) })
	}
	wg.Go(func() {
		defer sub.Close()
		t := time.NewTicker(s.cfg.Interval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case e := <-sub.Out():
				if ev, ok := e.(event.EvtPeerIdentificationCompleted); ok && isONVM(s.h, ev.Peer) {
					s.Trigger(ev.Peer)
				}
			case <-t.C:
				peers := ONVMPeers(s.h)
				rand.Shuffle(len(peers), func(i, j int) { peers[i], peers[j] = peers[j], peers[i] })
				for _, p := range peers[:min(len(peers), s.cfg.Peers)] {
					s.Trigger(p)
				}
			}
		}
	})
	for _, p := range ONVMPeers(s.h) { // already connected before Start
		s.Trigger(p)
	}
	return nil
}

// Trigger asks for a sync with p soon. Requests for a peer already queued
// coalesce; a full queue drops the request (the periodic round catches up).
func (s *Syncer) Trigger(p peer.ID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.queued[p] {
		return
	}
	select {
	case s.queue <- p:
		s.queued[p] = true
	default:
	}
}

func (s *Syncer) worker(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case p := <-s.queue:
			s.mu.Lock()
			delete(s.queued, p)
			if s.running[p] {
				s.again[p] = true
				s.mu.Unlock()
				continue
			}
			s.running[p] = true
			s.mu.Unlock()
			if err := s.SyncWith(ctx, p); err != nil && ctx.Err() == nil {
				s.log.Debug("sync failed", "peer", p.String(), "err", err)
			}
			s.mu.Lock()
			delete(s.running, p)
			rerun := s.again[p]
			delete(s.again, p)
			s.mu.Unlock()
			if rerun {
				s.Trigger(p)
			}
		}
	}
}

// session is the client side of one sync stream.
type session struct {
	st network.Stream
	r  *bufio.Reader
	w  *bufio.Writer
	to time.Duration
}

func (c *session) exchange(req *syncReq) (*syncResp, error) {
	if err := c.send(req); err != nil {
		return nil, err
	}
	return c.recv()
}

func (c *session) send(req *syncReq) error {
	if err := writeMsg(c.w, req); err != nil {
		return err
	}
	return c.w.Flush()
}

func (c *session) recv() (*syncResp, error) {
	_ = c.st.SetReadDeadline(time.Now().Add(c.to))
	var resp syncResp
	if err := readMsg(c.r, maxSyncResponse, &resp); err != nil {
		return nil, err
	}
	return &resp, nil
}

// SyncWith pulls from p everything p has that the DAG lacks: first by
// version vector, in batches in p's causal order, then by id whatever is
// still unknown (p's heads and the parents buffered vertices wait for —
// equivocated branches that version vectors cannot name).
func (s *Syncer) SyncWith(ctx context.Context, p peer.ID) (err error) {
	defer func() {
		if err != nil {
			s.failures.Add(1)
		} else {
			s.sessionsDone.Add(1)
		}
	}()
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	st, err := s.h.NewStream(ctx, p, SyncProtocol)
	if err != nil {
		return fmt.Errorf("sync with %s: %w", p, err)
	}
	defer st.Close()
	dl, _ := ctx.Deadline()
	_ = st.SetDeadline(dl)
	stop := context.AfterFunc(ctx, func() { _ = st.Reset() })
	defer stop()
	c := &session{st: st, r: bufio.NewReaderSize(st, 64<<10), w: bufio.NewWriterSize(st, 16<<10), to: s.cfg.IdleTimeout}
	if err := s.pull(ctx, p, c); err != nil {
		if errors.Is(err, ErrProtocol) || errors.Is(err, ErrTooLarge) {
			s.scores.Penalize(p, PenaltyProtocol)
		}
		_ = st.Reset()
		return fmt.Errorf("sync with %s: %w", p, err)
	}
	return nil
}

func (s *Syncer) pull(ctx context.Context, p peer.ID, c *session) error {
	sum, err := c.exchange(&syncReq{Op: syncOpSummary})
	if err != nil {
		return err
	}
	theirs, err := dag.FromEntries(sum.VV)
	if err != nil || len(sum.VV) > maxVVEntries || len(sum.Heads) > maxHeads {
		return fmt.Errorf("%w: summary: %v", ErrProtocol, err)
	}
	mine := s.d.VersionVector()
	if !mine.Covers(theirs) {
		if err := s.pullBatches(ctx, p, c, mine); err != nil {
			return err
		}
	}
	asked := make(map[id.Hash]bool)
	var want []id.Hash
	for _, h := range sum.Heads {
		if ok, err := s.d.Has(h); err == nil && !ok {
			want = append(want, h)
		}
	}
	for round := 0; round < maxGetRounds; round++ {
		for _, h := range s.d.Missing(maxGetIDs) {
			if len(want) < maxGetIDs && !asked[h] {
				want = append(want, h)
			}
		}
		if len(want) == 0 {
			return nil
		}
		for _, h := range want {
			asked[h] = true
		}
		resp, err := c.exchange(&syncReq{Op: syncOpGet, IDs: want})
		if err != nil {
			return err
		}
		if err := s.add(ctx, p, resp.Vertices); err != nil {
			return err
		}
		want = want[:0]
	}
	return nil
}

// pullBatches pulls by version vector. It is pipelined three ways: the
// next request goes out as soon as a batch arrives (the server scans while
// this side works), and one goroutine reads and verifies batch n+1 while
// the caller inserts batch n.
//
// On failure the reader may be blocked on the stream or on the channel:
// the stream is reset and the reader's context cancelled before it is
// waited for, so a failed session ends at once instead of holding a worker
// until the read times out.
func (s *Syncer) pullBatches(ctx context.Context, p peer.ID, c *session, mine dag.VersionVector) (err error) {
	type batch struct {
		vs       []*dag.Vertex
		rejected []dag.Rejection
		err      error
	}
	batches := make(chan batch, 1)
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() {
		cancel()
		if err != nil {
			_ = c.st.Reset()
		}
		wg.Wait()
	}()
	wg.Go(func() {
		defer close(batches)
		req := &syncReq{Op: syncOpPull, VV: mine.Entries()}
		err := c.send(req)
		for err == nil {
			var resp *syncResp
			if resp, err = c.recv(); err != nil {
				break
			}
			if !resp.Done {
				if resp.Next <= req.From {
					err = fmt.Errorf("%w: pull cursor did not advance", ErrProtocol)
					break
				}
				req.From = resp.Next
				if err = c.send(req); err != nil {
					break
				}
			}
			vs, rej := s.d.DecodeBatch(dag.Source(p), resp.Vertices)
			s.received.Add(uint64(len(resp.Vertices)))
			select {
			case batches <- batch{vs: vs, rejected: rej}:
			case <-ctx.Done():
				return
			}
			if resp.Done {
				return
			}
		}
		select {
		case batches <- batch{err: err}:
		case <-ctx.Done():
		}
	})
	for b := range batches {
		if b.err != nil {
			return b.err
		}
		res, err := s.d.Add(ctx, dag.Source(p), b.vs...)
		res.Rejected = append(b.rejected, res.Rejected...)
		s.accepted.Add(uint64(res.Accepted))
		s.rejected.Add(uint64(len(res.Rejected)))
		reportRejections(s.scores, res.Rejected, true)
		if err != nil {
			return err
		}
	}
	return nil
}

// add hands received vertices to the DAG and reports invalid ones.
func (s *Syncer) add(ctx context.Context, p peer.ID, raws [][]byte) error {
	if len(raws) == 0 {
		return nil
	}
	res, err := s.d.AddRaw(ctx, dag.Source(p), raws)
	s.received.Add(uint64(len(raws)))
	s.accepted.Add(uint64(res.Accepted))
	s.rejected.Add(uint64(len(res.Rejected)))
	reportRejections(s.scores, res.Rejected, true)
	return err
}

// reportRejections penalises whoever is to blame for invalid vertices: the
// author for stateful faults (what it signed is wrong whoever relayed it),
// and the sending peer for stateless ones when blameSender is set. Gossip
// leaves stateless faults to gossipsub's own scoring of rejected messages;
// a sync server serves only vertices it accepted, so it answers for every
// fault.
func reportRejections(scores *Scores, rs []dag.Rejection, blameSender bool) {
	for _, r := range rs {
		if r.Reason.Stateful() && r.Author != (id.Node{}) {
			if p, err := PeerOf(r.Author); err == nil {
				scores.Penalize(p, PenaltyInvalidVertex)
			}
		}
		if blameSender && r.Source != dag.Local {
			scores.Penalize(peer.ID(r.Source), PenaltyInvalidVertex)
		}
	}
}

// serve is the server side of a sync stream.
func (s *Syncer) serve(st network.Stream) {
	p := st.Conn().RemotePeer()
	if s.scores.Banned(p) || !s.sessions.acquire(p) {
		s.scores.Penalize(p, PenaltyRateLimit)
		_ = st.Reset()
		return
	}
	defer s.sessions.release(p)
	_ = st.SetDeadline(time.Now().Add(s.cfg.Timeout))
	r := bufio.NewReaderSize(st, 16<<10)
	w := bufio.NewWriterSize(st, 64<<10)
	for {
		_ = st.SetReadDeadline(time.Now().Add(s.cfg.IdleTimeout))
		var req syncReq
		if err := readMsg(r, maxSyncRequest, &req); err != nil {
			if errors.Is(err, io.EOF) {
				_ = st.Close()
				return
			}
			if errors.Is(err, ErrProtocol) || errors.Is(err, ErrTooLarge) {
				s.scores.Penalize(p, PenaltyProtocol)
			}
			_ = st.Reset()
			return
		}
		if !s.requests.allow(p) {
			s.scores.Penalize(p, PenaltyRateLimit)
			_ = st.Reset()
			return
		}
		resp, err := s.answer(&req)
		if err != nil {
			s.log.Debug("bad sync request", "peer", p.String(), "err", err)
			if errors.Is(err, ErrProtocol) {
				s.scores.Penalize(p, PenaltyProtocol)
			}
			_ = st.Reset()
			return
		}
		s.served.Add(1)
		if err := writeMsg(w, resp); err != nil {
			_ = st.Reset()
			return
		}
		if err := w.Flush(); err != nil {
			_ = st.Reset()
			return
		}
	}
}

func (s *Syncer) answer(req *syncReq) (*syncResp, error) {
	switch req.Op {
	case syncOpSummary:
		vv := s.d.VersionVector().Entries()
		heads := s.d.Heads()
		return &syncResp{VV: vv[:min(len(vv), maxVVEntries)], Heads: heads[:min(len(heads), maxHeads)]}, nil
	case syncOpPull:
		if len(req.VV) > maxVVEntries {
			return nil, fmt.Errorf("%w: version vector of %d entries", ErrProtocol, len(req.VV))
		}
		want, err := dag.FromEntries(req.VV)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrProtocol, err)
		}
		from := req.From
		if from == 0 {
			if from, err = s.d.StartPos(want); err != nil {
				return nil, err
			}
		}
		raws, next, done, err := s.d.Scan(from, want, dag.ScanLimits{Count: syncBatchCount, Bytes: syncBatchBytes, Scan: syncScanLimit})
		if err != nil {
			return nil, err
		}
		return &syncResp{Vertices: raws, Next: next, Done: done}, nil
	case syncOpGet:
		if len(req.IDs) > maxGetIDs {
			return nil, fmt.Errorf("%w: %d ids", ErrProtocol, len(req.IDs))
		}
		var out [][]byte
		size := 0
		for _, h := range req.IDs {
			raw, err := s.d.GetRaw(h)
			if errors.Is(err, dag.ErrNotFound) {
				continue
			}
			if err != nil {
				return nil, err
			}
			if size+len(raw) > syncBatchBytes {
				break
			}
			out = append(out, raw)
			size += len(raw)
		}
		return &syncResp{Vertices: out}, nil
	default:
		return nil, fmt.Errorf("%w: sync op %d", ErrProtocol, req.Op)
	}
}
