// Package api is the node's HTTP JSON API: routes, request limits and
// deadlines, the mapping of errors to HTTP statuses, health endpoints and
// Prometheus metrics.
//
// Handlers are thin: they parse the request, call a store through a small
// interface declared here, and render the result. Every error response has
// the shape {"error":{"code":"…","message":"…"}}, produced by errors.go
// alone. The package must not reach into storage internals, open files or
// the database itself, or know how the node is wired; node hands it what it
// needs in Options.
package api

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/onvm-network/onvm/internal/blob"
	"github.com/onvm-network/onvm/internal/config"
	"github.com/onvm-network/onvm/internal/id"
)

// BlobStore is what the blob routes need from internal/blob.
type BlobStore interface {
	Put(ctx context.Context, r io.Reader, mime string) (blob.Info, bool, error)
	Stat(ctx context.Context, b id.Blob) (blob.Info, error)
	Open(ctx context.Context, b id.Blob) (*blob.Reader, error)
	Usage() (blobs int, bytes int64)
}

// Options configures a Server. RPC and Jobs come from config.toml; the rest
// is wired by node.
type Options struct {
	RPC     config.RPC
	Jobs    config.Jobs
	Dev     bool   // reported by /health/liveness as mode "dev"
	Version string // reported by /health/readiness
	Blobs   BlobStore
	Logger  *slog.Logger
	// Registry receives the API's metrics and is served at /metrics; nil
	// makes a new one. Never the global registry: two nodes in one process
	// must not share counters.
	Registry *prometheus.Registry
	// Programs serves deploy, catalog, state, execute and receipts; nil
	// leaves those routes out.
	Programs Programs
	// JobService serves /jobs and fills the job fields of the health
	// endpoints; nil leaves the job routes out.
	JobService JobService
	// Network serves GET /peers; DAG serves /dag/*. nil leaves them out.
	Network Network
	DAG     DAG
	// MinPeers is network.min_peers, reported by GET /peers.
	MinPeers int
	// Gate, when set, is checked before an execution or a job submission
	// starts: an error (p2p.ErrNotEnoughPeers) refuses it with 503.
	Gate func() error
	// NodeID is the node's id, which signed requests name (zero: the
	// Network's node id, if there is a Network).
	NodeID id.Node
	// Auth turns on request authentication and the admin routes
	// (auth.go); the zero value leaves the API open (dev).
	Auth AuthOptions
	// Now and Resources are seams for tests; nil means the real clock and
	// process statistics.
	Now       func() time.Time
	Resources func() Sample
}

// Server serves the API. Create it with New, then Serve a listener.
type Server struct {
	opts     Options
	log      *slog.Logger
	start    time.Time
	handler  http.Handler
	metrics  *metrics
	draining atomic.Bool
	srv      *http.Server
	nodeID   id.Node
	// hardStop is cancelled when the shutdown grace runs out; requests'
	// contexts derive from it, so stuck handlers unblock.
	hardStop context.CancelFunc
	base     context.Context
	execs    *inflight // executions in flight per project
	deploys  *inflight // deploys in flight per project
}

// New builds the server and its routes.
func New(opts Options) *Server {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Registry == nil {
		opts.Registry = prometheus.NewRegistry()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Resources == nil {
		opts.Resources = newSampler().sample
	}
	s := &Server{opts: opts, log: opts.Logger, start: opts.Now(), nodeID: opts.NodeID,
		execs: newInflight("executions", opts.Auth.MaxExecutions), deploys: newInflight("deploys", opts.Auth.MaxDeploys)}
	if s.nodeID == (id.Node{}) && opts.Network != nil {
		s.nodeID = opts.Network.Self().Node
	}
	s.base, s.hardStop = context.WithCancel(context.Background())
	s.metrics = newMetrics(opts.Registry, opts.Blobs, opts.Version)
	r := newRouter()
	s.routes(r)
	s.handler = s.metrics.middleware(s.cors(s.deadlines(s.authenticate(s.strict(s.minPeers(r.mux))))))
	s.srv = s.newHTTPServer()
	return s
}

// Handler returns the API's root handler, for tests and embedding.
func (s *Server) Handler() http.Handler { return s.handler }
