package p2p

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	"golang.org/x/time/rate"

	"github.com/onvm-network/onvm/internal/id"
)

// ExecProtocol forwards execution requests to a committee leader
// (docs/protocol.md).
const ExecProtocol protocol.ID = "/onvm/exec/1.0.0"

// Exec limits and statuses.
const (
	MaxExecInput  = 1<<20 + 4<<10 // the request payload: an execution input of up to 1 MiB and its envelope
	execEnvelope  = 4 << 10
	maxExecError  = 1024
	execOK        = 0
	execDenied    = 1
	execLimited   = 2
	execTooLarge  = 3
	execFailed    = 4
	execNoHandler = 5
)

// ExecHandler serves one forwarded request: from is the authenticated
// node that sent it (the libp2p connection proves the key), req its opaque
// payload. The node decodes req, executes or redirects, and returns the
// encoded answer. An error is sent back as text.
type ExecHandler func(ctx context.Context, from id.Node, req []byte) ([]byte, error)

// ExecConfig configures Exec. Zero fields take the defaults noted.
type ExecConfig struct {
	// Allow says which nodes may send requests (committee members, known
	// validators). nil allows nobody: forwarding must be enabled
	// deliberately.
	Allow func(id.Node) bool
	// MaxResponse bounds a response payload (8 MiB).
	MaxResponse int
	// Rate and Burst limit requests per sending peer (2,000/s, 4,000).
	// The senders are validators forwarding for all their own clients,
	// whom their API throttles per project; these bounds only keep one
	// misbehaving validator from taking the node.
	Rate  rate.Limit
	Burst int
	// PerPeer bounds concurrent requests served per peer (32); Total
	// bounds them overall (64). A sender refused for either backs off and
	// tries again (replica's forward), so they shape traffic rather than
	// fail it.
	PerPeer, Total int
	// Timeout bounds serving one request, handler included (60 s).
	Timeout time.Duration
}

func (c *ExecConfig) defaults() {
	if c.MaxResponse <= 0 {
		c.MaxResponse = 8 << 20
	}
	if c.Rate <= 0 {
		c.Rate = 2000
	}
	if c.Burst <= 0 {
		c.Burst = 4000
	}
	if c.PerPeer <= 0 {
		c.PerPeer = 32
	}
	if c.Total <= 0 {
		c.Total = 64
	}
	if c.Timeout <= 0 {
		c.Timeout = time.Minute
	}
}

type execReq struct {
	Payload []byte `cbor:"1,keyasint"`
}

type execResp struct {
	Status  uint8  `cbor:"1,keyasint"`
	Payload []byte `cbor:"2,keyasint"`
	Error   string `cbor:"3,keyasint"`
}

// Exec carries opaque execution requests between nodes over authenticated
// libp2p streams, one request and one response per stream.
type Exec struct {
	h     host.Host
	cfg   ExecConfig
	log   *slog.Logger
	lim   *peerLimiter
	slots chan struct{}

	mu      sync.RWMutex
	handler ExecHandler
}

// NewExec registers the exec protocol on h. Requests are refused until
// Handle sets a handler.
func NewExec(h host.Host, cfg ExecConfig, log *slog.Logger) *Exec {
	cfg.defaults()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	e := &Exec{h: h, cfg: cfg, log: log, lim: newPeerLimiter(cfg.Rate, cfg.Burst, cfg.PerPeer), slots: make(chan struct{}, cfg.Total)}
	h.SetStreamHandler(ExecProtocol, e.serve)
	return e
}

// Handle sets the handler of incoming requests.
func (e *Exec) Handle(h ExecHandler) {
	e.mu.Lock()
	e.handler = h
	e.mu.Unlock()
}

func (e *Exec) serve(st network.Stream) {
	p := st.Conn().RemotePeer()
	ctx, cancel := context.WithTimeout(context.Background(), e.cfg.Timeout)
	defer cancel()
	stop := context.AfterFunc(ctx, func() { _ = st.Reset() })
	defer stop()
	_ = st.SetDeadline(time.Now().Add(e.cfg.Timeout))
	reply := func(r *execResp) {
		w := bufio.NewWriter(st)
		if writeMsg(w, r) != nil || w.Flush() != nil {
			_ = st.Reset()
			return
		}
		_ = st.Close()
	}
	from, err := NodeOf(p)
	e.mu.RLock()
	handler := e.handler
	e.mu.RUnlock()
	switch {
	case err != nil || e.cfg.Allow == nil || !e.cfg.Allow(from):
		reply(&execResp{Status: execDenied, Error: "not an authorised node"})
		return
	case handler == nil:
		reply(&execResp{Status: execNoHandler, Error: "execution forwarding not served"})
		return
	case !e.lim.acquire(p):
		reply(&execResp{Status: execLimited, Error: "rate limited"})
		return
	}
	defer e.lim.release(p)
	select {
	case e.slots <- struct{}{}:
		defer func() { <-e.slots }()
	default:
		reply(&execResp{Status: execLimited, Error: "busy"})
		return
	}
	var req execReq
	if err := readMsg(bufio.NewReader(st), MaxExecInput+execEnvelope, &req); err != nil {
		if errors.Is(err, ErrTooLarge) {
			reply(&execResp{Status: execTooLarge, Error: "request over 1 MiB"})
			return
		}
		_ = st.Reset()
		return
	}
	if len(req.Payload) > MaxExecInput {
		reply(&execResp{Status: execTooLarge, Error: "request over 1 MiB"})
		return
	}
	out, err := handler(ctx, from, req.Payload)
	switch {
	case err != nil:
		msg := err.Error()
		if len(msg) > maxExecError {
			msg = msg[:maxExecError]
		}
		reply(&execResp{Status: execFailed, Error: msg})
	case len(out) > e.cfg.MaxResponse:
		e.log.Warn("exec response over the limit", "peer", p.String(), "bytes", len(out))
		reply(&execResp{Status: execFailed, Error: "response too large"})
	default:
		reply(&execResp{Payload: out})
	}
}

// Call sends req to node to and returns its answer. Errors: ErrDenied,
// ErrRateLimited, ErrTooLarge, ErrUnavailable, or ErrRemote with the
// handler's message.
func (e *Exec) Call(ctx context.Context, to id.Node, req []byte) ([]byte, error) {
	if len(req) > MaxExecInput {
		return nil, fmt.Errorf("exec call to %s: %w: %d bytes", to, ErrTooLarge, len(req))
	}
	p, err := PeerOf(to)
	if err != nil {
		return nil, fmt.Errorf("exec call to %s: %w", to, err)
	}
	return e.CallPeer(ctx, p, req)
}

// CallPeer is Call addressed by peer id.
func (e *Exec) CallPeer(ctx context.Context, p peer.ID, req []byte) ([]byte, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, e.cfg.Timeout)
		defer cancel()
	}
	st, err := e.h.NewStream(ctx, p, ExecProtocol)
	if err != nil {
		return nil, fmt.Errorf("exec call to %s: %w", p, err)
	}
	defer st.Close()
	dl, _ := ctx.Deadline()
	_ = st.SetDeadline(dl)
	stop := context.AfterFunc(ctx, func() { _ = st.Reset() })
	defer stop()
	// The server may answer before reading (a refusal), so the request is
	// written concurrently with reading the answer; a refusal resets the
	// stream, which ends a write blocked on flow control.
	werr := make(chan error, 1)
	go func() {
		w := bufio.NewWriter(st)
		err := writeMsg(w, &execReq{Payload: req})
		if err == nil {
			err = w.Flush()
		}
		if err == nil {
			err = st.CloseWrite()
		}
		werr <- err
	}()
	var resp execResp
	rerr := readMsg(bufio.NewReader(st), e.cfg.MaxResponse+execEnvelope, &resp)
	if rerr != nil || resp.Status != execOK {
		_ = st.Reset()
	}
	err = <-werr
	if rerr != nil {
		if ctx.Err() != nil {
			rerr = ctx.Err()
		}
		return nil, fmt.Errorf("exec call to %s: %w", p, rerr)
	}
	if resp.Status == execOK && err != nil {
		return nil, fmt.Errorf("exec call to %s: %w", p, err)
	}
	switch resp.Status {
	case execOK:
		return resp.Payload, nil
	case execDenied:
		return nil, fmt.Errorf("exec call to %s: %w", p, ErrDenied)
	case execLimited:
		return nil, fmt.Errorf("exec call to %s: %w: %s", p, ErrRateLimited, resp.Error)
	case execTooLarge:
		return nil, fmt.Errorf("exec call to %s: %w", p, ErrTooLarge)
	case execNoHandler:
		return nil, fmt.Errorf("exec call to %s: %w", p, ErrUnavailable)
	default:
		return nil, fmt.Errorf("exec call to %s: %w: %s", p, ErrRemote, resp.Error)
	}
}
