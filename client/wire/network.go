package wire

import (
	"encoding/json"
	"time"
)

// Peers is the answer to GET /peers.
type Peers struct {
	Self      Self   `json:"self"`
	MinPeers  int    `json:"min_peers"`
	ONVMPeers int    `json:"onvm_peers"` // connected peers that speak the ONVM protocols
	Peers     []Peer `json:"peers"`
}

// Self is the answering node's own identity and addresses.
type Self struct {
	PeerID string   `json:"peer_id"`
	NodeID string   `json:"node_id"`
	Addrs  []string `json:"addrs"` // each ending in /p2p/<peer id>
}

// Peer is one connected peer.
type Peer struct {
	PeerID         string    `json:"peer_id"`
	NodeID         string    `json:"node_id"` // zeros if the peer's key is not Ed25519
	Addrs          []string  `json:"addrs"`   // of its open connections
	Direction      string    `json:"direction"`
	ConnectedSince time.Time `json:"connected_since"`
	LatencyNS      int64     `json:"latency_ns"` // EWMA of pings; 0 until measured
	AgentVersion   string    `json:"agent_version"`
	ONVM           bool      `json:"onvm"` // speaks the ONVM protocols
	Score          float64   `json:"score"`
}

// DAGHeads is the answer to GET /dag/heads.
type DAGHeads struct {
	Self     string           `json:"self"`
	Vertices uint64           `json:"vertices"` // accepted so far
	Heads    []string         `json:"heads"`
	Pending  int              `json:"pending"` // waiting for parents
	Rejected map[string]int64 `json:"rejected"`
	Refused  map[string]int64 `json:"refused_ops"` // operations of accepted vertices refused when applied, by kind
}

// Vertex is the answer to GET /dag/vertices/{id}.
type Vertex struct {
	ID        string     `json:"id"`
	Author    string     `json:"author"`
	Seq       uint64     `json:"seq"`
	Parents   []string   `json:"parents"`
	Timestamp time.Time  `json:"timestamp"` // the author's claim
	Signature string     `json:"signature"` // base64
	Ops       []VertexOp `json:"ops"`
}

// VertexOp is one operation of a vertex: its kind and, when it decodes,
// its body for display (a JSON object whose fields depend on the kind).
type VertexOp struct {
	Kind uint16          `json:"kind"`
	Name string          `json:"name"`
	Size int             `json:"size"` // body bytes
	Body json.RawMessage `json:"body,omitempty"`
}

// DAGAuthors is the answer to GET /dag/authors: the version vector, and
// the authors caught equivocating.
type DAGAuthors struct {
	Authors []DAGAuthor `json:"authors"`
}

// DAGAuthor is one author of the DAG.
type DAGAuthor struct {
	Author      string     `json:"author"`
	Seq         uint64     `json:"seq"` // highest accepted sequence
	Equivocated bool       `json:"equivocated"`
	FlaggedAt   *time.Time `json:"flagged_at,omitempty"`
}

// Equivocations is the answer to GET /dag/equivocations.
type Equivocations struct {
	Flagged       []Flag         `json:"flagged"`
	Equivocations []Equivocation `json:"equivocations"`
}

// Flag marks an author seen signing two vertices with one sequence.
type Flag struct {
	Author     string    `json:"author"`
	Seq        uint64    `json:"seq"`         // first sequence with two vertices
	DetectedAt time.Time `json:"detected_at"` // when this node first saw it
}

// Equivocation is one slot with more than one vertex: the evidence.
type Equivocation struct {
	Author   string   `json:"author"`
	Seq      uint64   `json:"seq"`
	Vertices []string `json:"vertices"`
}
