package client

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/onvm-network/onvm/client/wire"
)

// Peers lists the node's connected peers.
func (c *Client) Peers(ctx context.Context) (*Peers, error) {
	var out Peers
	if err := c.getJSON(ctx, "/peers", &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// DAGHeads returns the node's DAG tips and counters.
func (c *Client) DAGHeads(ctx context.Context) (*DAGHeads, error) {
	var out DAGHeads
	if err := c.getJSON(ctx, "/dag/heads", &out); err != nil {
		return nil, err
	}
	return &out, nil
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

// DAGAuthors returns the node's version vector: every author and its
// highest accepted sequence.
func (c *Client) DAGAuthors(ctx context.Context) ([]DAGAuthor, error) {
	var out wire.DAGAuthors
	if err := c.getJSON(ctx, "/dag/authors", &out); err != nil {
		return nil, err
	}
	return out.Authors, nil
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
