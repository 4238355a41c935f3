package p2p

import (
	"bufio"
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	"golang.org/x/time/rate"

	"github.com/onvm-network/onvm/internal/id"
)

// AgreeProtocol carries committee messages between the members of
// programs' committees (docs/protocol.md): one long-lived stream per
// direction and peer, each frame one message about one program.
const AgreeProtocol protocol.ID = "/onvm/agree/1.0.0"

// AgreeHandler handles one message about program p from the authenticated
// node from. An error means the message was malformed, not from a member
// or badly signed: the sender is scored down.
type AgreeHandler func(from id.Node, p id.Program, msg []byte) error

// AgreeConfig configures Agree. Zero fields take the defaults noted.
type AgreeConfig struct {
	// Allow says which nodes may send messages (validators). nil allows
	// nobody.
	Allow func(id.Node) bool
	// MaxMessage bounds one message (8 MiB: a proposal carries its batch).
	MaxMessage int
	// Rate and Burst limit messages per sending peer (4,000/s, 8,000): a
	// member of many busy committees sends a few messages per height of
	// each.
	Rate  rate.Limit
	Burst int
	// Queue bounds the messages waiting to be sent to one peer (1,024);
	// over it a message is dropped, which the committee shell tolerates
	// (it sends again while a height is open).
	Queue int
}

func (c *AgreeConfig) defaults() {
	if c.MaxMessage <= 0 {
		c.MaxMessage = 8 << 20
	}
	if c.Rate <= 0 {
		c.Rate = 4000
	}
	if c.Burst <= 0 {
		c.Burst = 8000
	}
	if c.Queue <= 0 {
		c.Queue = 1024
	}
}

// agreeFrame is one message on the wire.
type agreeFrame struct {
	Program id.Program `cbor:"1,keyasint"`
	Body    []byte     `cbor:"2,keyasint"`
}

// agreeEnvelope is the frame's overhead over its body.
const agreeEnvelope = 64

// Agree sends and receives committee messages. Send never blocks: each
// peer has a queue drained by one writer goroutine, which opens a stream
// when it has something to send and keeps it while it works.
type Agree struct {
	h      host.Host
	cfg    AgreeConfig
	scores *Scores
	log    *slog.Logger
	lim    *peerLimiter
	ctx    context.Context
	wg     *sync.WaitGroup

	mu      sync.Mutex
	handler AgreeHandler
	out     map[peer.ID]chan agreeFrame

	// Counters for metrics.
	sent, dropped, received, refused, limited atomic.Uint64
}

// NewAgree registers the agree protocol on h; its writers stop with ctx
// and are counted in wg. Messages are refused until Handle sets a handler.
func NewAgree(ctx context.Context, wg *sync.WaitGroup, h host.Host, scores *Scores, cfg AgreeConfig, log *slog.Logger) *Agree {
	cfg.defaults()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	a := &Agree{h: h, cfg: cfg, scores: scores, log: log, lim: newPeerLimiter(cfg.Rate, cfg.Burst, 1<<30),
		ctx: ctx, wg: wg, out: make(map[peer.ID]chan agreeFrame)}
	h.SetStreamHandler(AgreeProtocol, a.serve)
	return a
}

// Handle sets the handler of incoming messages.
func (a *Agree) Handle(h AgreeHandler) {
	a.mu.Lock()
	a.handler = h
	a.mu.Unlock()
}

// Send queues msg about p for node to, or drops it when to's queue is
// full or to is not a valid node.
func (a *Agree) Send(to id.Node, p id.Program, msg []byte) {
	pid, err := PeerOf(to)
	if err != nil || pid == a.h.ID() || len(msg) > a.cfg.MaxMessage {
		a.dropped.Add(1)
		return
	}
	if a.ctx.Err() != nil {
		return
	}
	// Queued under the lock, so that a writer ending for idleness (which
	// checks its queue under it) never leaves a message behind.
	a.mu.Lock()
	defer a.mu.Unlock()
	q := a.out[pid]
	if q == nil {
		q = make(chan agreeFrame, a.cfg.Queue)
		a.out[pid] = q
		a.wg.Go(func() { a.write(pid, q) })
	}
	select {
	case q <- agreeFrame{Program: p, Body: msg}:
	default:
		a.dropped.Add(1)
	}
}

// agreeIdle is how long a writer keeps its stream and goroutine without
// anything to send.
const agreeIdle = time.Minute

// write drains p's queue onto a stream, opening one when needed. A failed
// write drops that message and the stream; the next message opens a new
// one. After agreeIdle without messages the writer ends (the next Send
// starts one again).
func (a *Agree) write(p peer.ID, q chan agreeFrame) {
	var st network.Stream
	var w *bufio.Writer
	closeStream := func() {
		if st != nil {
			_ = st.Close()
			st, w = nil, nil
		}
	}
	defer closeStream()
	idle := time.NewTimer(agreeIdle)
	defer idle.Stop()
	for {
		var f agreeFrame
		select {
		case <-a.ctx.Done():
			return
		case <-idle.C:
			a.mu.Lock()
			if len(q) > 0 { // a message arrived as the timer fired
				a.mu.Unlock()
				idle.Reset(agreeIdle)
				continue
			}
			delete(a.out, p)
			a.mu.Unlock()
			return
		case f = <-q:
		}
		idle.Reset(agreeIdle)
		if st == nil {
			ctx, cancel := context.WithTimeout(a.ctx, DefaultReachWait)
			s, err := a.h.NewStream(ctx, p, AgreeProtocol)
			cancel()
			if err != nil {
				a.dropped.Add(1)
				continue
			}
			st, w = s, bufio.NewWriter(s)
		}
		_ = st.SetWriteDeadline(time.Now().Add(DefaultReachWait))
		err := writeMsg(w, &f)
		// Flush when nothing else is queued: back-to-back messages share
		// a write.
		if err == nil && len(q) == 0 {
			err = w.Flush()
		}
		if err != nil {
			a.dropped.Add(1)
			_ = st.Reset()
			st, w = nil, nil
			continue
		}
		a.sent.Add(1)
	}
}

// serve reads messages from one incoming stream until it ends.
func (a *Agree) serve(st network.Stream) {
	p := st.Conn().RemotePeer()
	from, err := NodeOf(p)
	if err != nil || a.cfg.Allow == nil || !a.cfg.Allow(from) || a.scores.Banned(p) {
		a.refused.Add(1)
		_ = st.Reset()
		return
	}
	defer func() { _ = st.Close() }()
	r := bufio.NewReader(st)
	for {
		var f agreeFrame
		if err := readMsg(r, a.cfg.MaxMessage+agreeEnvelope, &f); err != nil {
			if errors.Is(err, ErrProtocol) || errors.Is(err, ErrTooLarge) {
				a.refused.Add(1)
				a.scores.Penalize(p, PenaltyProtocol)
				_ = st.Reset()
			}
			return
		}
		if !a.lim.allow(p) {
			a.limited.Add(1)
			a.scores.Penalize(p, PenaltyRateLimit)
			continue
		}
		a.mu.Lock()
		h := a.handler
		a.mu.Unlock()
		if h == nil {
			continue
		}
		if err := h(from, f.Program, f.Body); err != nil {
			a.refused.Add(1)
			a.scores.Penalize(p, PenaltyProtocol)
			a.log.Debug("committee message refused", "peer", p.String(), "program", f.Program.String(), "err", err)
			if a.scores.Banned(p) {
				_ = st.Reset()
				return
			}
			continue
		}
		a.received.Add(1)
	}
}

// AgreeStats are the agree service's counters.
type AgreeStats struct {
	Sent, Dropped, Received, Refused, Limited uint64
}

// Stats returns the counters.
func (a *Agree) Stats() AgreeStats {
	return AgreeStats{Sent: a.sent.Load(), Dropped: a.dropped.Load(), Received: a.received.Load(), Refused: a.refused.Load(), Limited: a.limited.Load()}
}
