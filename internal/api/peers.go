package api

import (
	"net/http"

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

// PeersResponse is the response to GET /peers.
type PeersResponse struct {
	Self     p2p.SelfInfo   `json:"self"`
	MinPeers int            `json:"min_peers"`
	ONVM     int            `json:"onvm_peers"` // connected peers that speak the ONVM protocols
	Peers    []p2p.PeerInfo `json:"peers"`
}

func (s *Server) peers(w http.ResponseWriter, _ *http.Request) {
	out := PeersResponse{Self: s.opts.Network.Self(), MinPeers: s.opts.MinPeers, Peers: s.opts.Network.Peers()}
	if out.Peers == nil {
		out.Peers = []p2p.PeerInfo{}
	}
	for _, p := range out.Peers {
		if p.ONVM {
			out.ONVM++
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
