package client

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Self describes the node answering GET /peers.
type Self struct {
	PeerID string   `json:"peer_id"`
	NodeID string   `json:"node_id"`
	Addrs  []string `json:"addrs"` // each ending in /p2p/<peer id>
}

// Peer is one connected peer.
type Peer struct {
	PeerID         string    `json:"peer_id"`
	NodeID         string    `json:"node_id"`
	Addrs          []string  `json:"addrs"`
	Direction      string    `json:"direction"`
	ConnectedSince time.Time `json:"connected_since"`
	LatencyNS      int64     `json:"latency_ns"` // 0 until measured
	AgentVersion   string    `json:"agent_version"`
	ONVM           bool      `json:"onvm"` // speaks the ONVM protocols
	Score          float64   `json:"score"`
}

// Peers is the response of GET /peers.
type Peers struct {
	Self      Self   `json:"self"`
	MinPeers  int    `json:"min_peers"`
	ONVMPeers int    `json:"onvm_peers"`
	Peers     []Peer `json:"peers"`
}

// Peers lists the node's connected peers.
func (c *Client) Peers(ctx context.Context) (*Peers, error) {
	var out Peers
	if err := c.getJSON(ctx, "/peers", &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// DAGHeads is the response of GET /dag/heads.
type DAGHeads struct {
	Self     string           `json:"self"`
	Vertices uint64           `json:"vertices"`
	Heads    []string         `json:"heads"`
	Pending  int              `json:"pending"`
	Rejected map[string]int64 `json:"rejected"`
	Refused  map[string]int64 `json:"refused_ops"`
}

// DAGHeads returns the node's DAG tips and counters.
func (c *Client) DAGHeads(ctx context.Context) (*DAGHeads, error) {
	var out DAGHeads
	if err := c.getJSON(ctx, "/dag/heads", &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Vertex is one DAG vertex with its decoded operations.
type Vertex struct {
	ID        string     `json:"id"`
	Author    string     `json:"author"`
	Seq       uint64     `json:"seq"`
	Parents   []string   `json:"parents"`
	Timestamp time.Time  `json:"timestamp"`
	Signature string     `json:"signature"`
	Ops       []VertexOp `json:"ops"`
}

// VertexOp is one operation of a vertex; Body is its decoded JSON.
type VertexOp struct {
	Kind uint16          `json:"kind"`
	Name string          `json:"name"`
	Size int             `json:"size"`
	Body json.RawMessage `json:"body,omitempty"`
}

// DAGVertex returns vertex id.
func (c *Client) DAGVertex(ctx context.Context, vertexID string) (*Vertex, error) {
	v := strings.TrimSpace(vertexID)
	if v == "" {
		return nil, fmt.Errorf("vertex id is empty")
	}
	var out Vertex
	if err := c.getJSON(ctx, "/dag/vertices/"+url.PathEscape(v), &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// DAGAuthor is one author in the node's version vector.
type DAGAuthor struct {
	Author      string     `json:"author"`
	Seq         uint64     `json:"seq"`
	Equivocated bool       `json:"equivocated"`
	FlaggedAt   *time.Time `json:"flagged_at,omitempty"`
}

// DAGAuthors returns the node's version vector: every author and its
// highest accepted sequence.
func (c *Client) DAGAuthors(ctx context.Context) ([]DAGAuthor, error) {
	var out struct {
		Authors []DAGAuthor `json:"authors"`
	}
	if err := c.getJSON(ctx, "/dag/authors", &out); err != nil {
		return nil, err
	}
	return out.Authors, nil
}

// Equivocation is the evidence of one equivocated slot.
type Equivocation struct {
	Author   string   `json:"author"`
	Seq      uint64   `json:"seq"`
	Vertices []string `json:"vertices"`
}

// Flag is an author caught equivocating.
type Flag struct {
	Author     string    `json:"author"`
	Seq        uint64    `json:"seq"`
	DetectedAt time.Time `json:"detected_at"`
}

// Equivocations is the response of GET /dag/equivocations.
type Equivocations struct {
	Flagged       []Flag         `json:"flagged"`
	Equivocations []Equivocation `json:"equivocations"`
}

// DAGEquivocations returns the flagged authors and up to limit equivocated
// slots (0: the server's default).
func (c *Client) DAGEquivocations(ctx context.Context, limit int) (*Equivocations, error) {
	path := "/dag/equivocations"
	if limit > 0 {
		path += "?limit=" + strconv.Itoa(limit)
	}
	var out Equivocations
	if err := c.getJSON(ctx, path, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
