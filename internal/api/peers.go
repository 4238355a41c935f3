package api

import (
	"net/http"

	"github.com/onvm-network/onvm/client/wire"
	"github.com/onvm-network/onvm/internal/p2p"
)

// Network is what GET /peers needs from internal/p2p (its *Network).
type Network interface {
	Self() p2p.SelfInfo
	Peers() []p2p.PeerInfo
}

func (s *Server) peerRoutes(r *router) {
	if s.opts.Network == nil {
		return
	}
	r.handle(http.MethodGet, "/peers", s.peers)
}

func (s *Server) peers(w http.ResponseWriter, _ *http.Request) {
	self := s.opts.Network.Self()
	out := wire.Peers{
		Self:     wire.Self{PeerID: self.ID, NodeID: self.Node.String(), Addrs: self.Addrs},
		MinPeers: s.opts.MinPeers, Peers: []wire.Peer{},
	}
	for _, p := range s.opts.Network.Peers() {
		out.Peers = append(out.Peers, wire.Peer{
			PeerID: p.ID, NodeID: p.Node.String(), Addrs: p.Addrs, Direction: p.Direction,
			ConnectedSince: p.ConnectedSince, LatencyNS: int64(p.Latency), AgentVersion: p.AgentVersion,
			ONVM: p.ONVM, Score: p.Score,
		})
		if p.ONVM {
			out.ONVMPeers++
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// gated reports whether a request starts work that network.min_peers
// gates: an execution or a job submission.
func gated(r *http.Request) bool {
	return r.Method == http.MethodPost && (r.URL.Path == "/execute" || r.URL.Path == "/jobs")
}

// minPeers refuses gated requests with 503 min_peers while fewer peers
// than network.min_peers are connected.
func (s *Server) minPeers(next http.Handler) http.Handler {
	if s.opts.Gate == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if gated(r) {
			if err := s.opts.Gate(); err != nil {
				s.writeError(w, r, err)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}
