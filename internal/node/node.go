// Package node is the composition root: it opens a node's data directory
// (identity, database, stores), starts the replication layer, its libp2p
// host and network services, and the HTTP API, and stops them in reverse
// order. New is the single wiring function; later
// layers (programs, jobs, network, auth) add their construction there and
// nowhere else.
//
// The package must not hold business logic: it wires components that live
// in their own packages and hands each the handful of things it needs.
package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"

	"github.com/cockroachdb/pebble/v2"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/onvm-network/onvm/internal/api"
	"github.com/onvm-network/onvm/internal/blob"
	"github.com/onvm-network/onvm/internal/chain"
	"github.com/onvm-network/onvm/internal/committee"
	"github.com/onvm-network/onvm/internal/config"
	"github.com/onvm-network/onvm/internal/dag"
	"github.com/onvm-network/onvm/internal/dag/op"
	"github.com/onvm-network/onvm/internal/id"
	"github.com/onvm-network/onvm/internal/identity"
	"github.com/onvm-network/onvm/internal/job"
	"github.com/onvm-network/onvm/internal/p2p"
	"github.com/onvm-network/onvm/internal/replica"
	"github.com/onvm-network/onvm/internal/state"
	"github.com/onvm-network/onvm/internal/wasm"
)

// Paths inside the data directory.
const (
	DBDir      = "db"    // the one pebble database
	BlobDir    = "blobs" // blob files
	ConfigFile = "config.toml"
	RPCURLFile = "rpc.url"    // the bound API URL while the node runs
	PeersFile  = "peers.json" // the peers this node has met, dialled again at start
)

// WasmCacheDir holds the runtime's compiled modules.
const WasmCacheDir = "wasm-cache"

// Options configure New.
type Options struct {
	DataDir string
	// Config is the merged configuration (flags > env > file > defaults).
	Config config.Config
	// Dev marks a development node: reported by /health/liveness, and it
	// allows a plaintext identity.
	Dev bool
	// Passphrase opens an encrypted identity.
	Passphrase []byte
	// AllowPlaintext permits a plaintext identity.
	AllowPlaintext bool
	Logger         *slog.Logger
}

// Node is a running node.
type Node struct {
	opts    Options
	log     *slog.Logger
	keys    *identity.Keys
	db      *pebble.DB
	blobs   *blob.Store
	chain   *chain.Engine
	shell   *committee.Shell // agreement of the committees this node sits on
	replica *replica.Replica
	dag     *dag.DAG
	host    host.Host
	net     *p2p.Network
	prop    *dag.Proposer
	outbox  *dag.Outbox
	out     *replica.Outgoing // stages this node's operations in outbox
	jobs    *job.Service
	api     *api.Server
	ln      net.Listener
	tls     bool // the API serves HTTPS
	reg     *prometheus.Registry
	closers []func() error // in opening order; Close runs them backwards

	closeOnce sync.Once
	closeErr  error
}

// New opens the data directory and starts every component; the API
// listener is bound but not yet served (see Run). On error everything
// opened so far is closed.
func New(ctx context.Context, opts Options) (_ *Node, err error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if err := opts.Config.Validate(); err != nil {
		return nil, err
	}
	n := &Node{opts: opts, log: opts.Logger, reg: prometheus.NewRegistry()}
	defer func() {
		if err != nil {
			_ = n.Close() // the construction error is the one to report
		}
	}()
	cfg := opts.Config

	n.keys, err = identity.Load(opts.DataDir, identity.Options{
		Passphrase:     opts.Passphrase,
		AllowPlaintext: opts.AllowPlaintext || opts.Dev,
	})
	if err != nil {
		return nil, err
	}

	n.db, err = pebble.Open(filepath.Join(opts.DataDir, DBDir), dbOptions(n.log))
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	n.closers = append(n.closers, n.db.Close)

	// Every component that commits something the network must hear of
	// stages its operation in the outbox in the same batch (see
	// replica.Outgoing); the DAG proposes from it.
	n.outbox, err = dag.NewOutbox(n.db, op.Registry(), n.keys.Node())
	if err != nil {
		return nil, err
	}
	n.out = replica.NewOutgoing(n.outbox, n.keys.Node(), n.reg)

	n.blobs, err = blob.Open(blob.Options{
		Dir:        filepath.Join(opts.DataDir, BlobDir),
		DB:         n.db,
		MaxSize:    cfg.RPC.MaxBlobSize,
		OnComplete: n.out.StageBlob,
		Logger:     n.log.With("component", "blob"),
	})
	if err != nil {
		return nil, err
	}
	n.closers = append(n.closers, n.blobs.Close)

	rt, err := wasm.New(ctx, wasm.Config{
		CacheDir: filepath.Join(opts.DataDir, WasmCacheDir), Logger: n.log.With("component", "wasm"),
		CompileConcurrency: cfg.Execution.CompileConcurrency, CompileWait: cfg.Execution.CompileWait,
	})
	if err != nil {
		return nil, err
	}
	n.closers = append(n.closers, func() error { return rt.Close(context.WithoutCancel(ctx)) })
	states, err := state.Open(n.db)
	if err != nil {
		return nil, err
	}
	if err := n.openNetwork(ctx, rt, states); err != nil {
		return nil, err
	}
	if err := n.openJobs(ctx); err != nil {
		return nil, err
	}

	authOpts, err := n.openAuth(cfg.RPCAuth)
	if err != nil {
		return nil, err
	}
	n.api = api.New(api.Options{
		RPC:        cfg.RPC,
		Jobs:       cfg.Jobs,
		Dev:        opts.Dev,
		Version:    Version(),
		Blobs:      n.replica.Blobs(),
		Programs:   n.replica.Programs(),
		JobService: n.replica.Jobs(), // routed to each job's home
		Network:    n.net,
		DAG:        n.dag,
		MinPeers:   cfg.Network.MinPeers,
		Gate:       n.replica.Gate,
		Auth:       authOpts,
		Logger:     n.log.With("component", "api"),
		Registry:   n.reg,
	})
	n.ln, err = api.Listen(ctx, cfg.RPC.Listen)
	if err != nil {
		return nil, err
	}
	n.closers = append(n.closers, n.closeListener)
	if err := n.listenTLS(cfg.RPC); err != nil {
		return nil, err
	}
	if err := writeURLFile(filepath.Join(opts.DataDir, RPCURLFile), n.RPCURL()); err != nil {
		return nil, err
	}
	n.closers = append(n.closers, func() error {
		return ignoreNotExist(os.Remove(filepath.Join(opts.DataDir, RPCURLFile)))
	})
	n.startReplica()
	return n, nil
}

// Run serves the API until ctx is cancelled, then shuts it down: it stops
// accepting, lets in-flight requests finish within rpc.shutdown_grace, and
// returns. The caller then calls Close.
func (n *Node) Run(ctx context.Context) error {
	errc := make(chan error, 1)
	go func() { errc <- n.api.Serve(n.ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve API: %w", err)
	case <-ctx.Done():
	}
	n.log.Info("shutting down")
	shutErr := n.api.Shutdown(context.WithoutCancel(ctx))
	return errors.Join(<-errc, shutErr)
}

// Close stops every component in the reverse order of opening. It is
// idempotent.
func (n *Node) Close() error {
	n.closeOnce.Do(func() {
		var errs []error
		for i := len(n.closers) - 1; i >= 0; i-- {
			errs = append(errs, n.closers[i]())
		}
		n.closeErr = errors.Join(errs...)
	})
	return n.closeErr
}

func (n *Node) closeListener() error {
	err := n.ln.Close()
	if errors.Is(err, net.ErrClosed) {
		return nil // Serve closed it
	}
	return err
}

// ID returns the node id.
func (n *Node) ID() id.Node { return n.keys.Node() }

// PeerID returns the libp2p peer id.
func (n *Node) PeerID() peer.ID { return n.host.ID() }

// Network returns the network layer (peers, gossip, sync, blob transfer).
func (n *Node) Network() *p2p.Network { return n.net }

// DAG returns the node's replica of the operation DAG.
func (n *Node) DAG() *dag.DAG { return n.dag }

// Replica returns the replication layer (replicating blob and program
// views, the validator set).
func (n *Node) Replica() *replica.Replica { return n.replica }

// BLSPublicKey returns the consensus public key in hex.
func (n *Node) BLSPublicKey() string {
	pk := n.keys.BLS.PublicKey()
	return pk.String()
}

// RPCURL returns the API's base URL, e.g. http://127.0.0.1:8080 (https://
// with rpc.tls_cert).
func (n *Node) RPCURL() string {
	if n.tls {
		return "https://" + n.ln.Addr().String()
	}
	return "http://" + n.ln.Addr().String()
}

// P2PAddrs returns the host's addresses, each ending in /p2p/<peer id>.
func (n *Node) P2PAddrs() []string { return p2p.FullAddrs(n.host) }

// Registry returns the node's Prometheus registry.
func (n *Node) Registry() *prometheus.Registry { return n.reg }

// Chain returns the program engine (deploy, execute, replicate).
func (n *Node) Chain() *chain.Engine { return n.chain }

func writeURLFile(path, url string) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(url+"\n"), 0o600); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

func ignoreNotExist(err error) error {
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return err
}

// pebbleLogger sends pebble's messages to slog.
type pebbleLogger struct{ log *slog.Logger }

func (l pebbleLogger) Infof(format string, args ...any) {
	l.log.Debug("pebble", "msg", fmt.Sprintf(format, args...))
}

func (l pebbleLogger) Errorf(format string, args ...any) {
	l.log.Error("pebble", "msg", fmt.Sprintf(format, args...))
}

func (l pebbleLogger) Fatalf(format string, args ...any) {
	l.log.Error("pebble fatal", "msg", fmt.Sprintf(format, args...))
	os.Exit(1)
}
