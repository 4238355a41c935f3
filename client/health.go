package client

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// Health calls GET /health and returns nil when the node answers "ok".
func (c *Client) Health(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/health", nil)
	if err != nil {
		return err
	}
	resp, err := c.do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64))
	if strings.TrimSpace(string(b)) != "ok" {
		return fmt.Errorf("GET /health: unexpected answer %q", b)
	}
	return nil
}

// Liveness calls GET /health/liveness.
func (c *Client) Liveness(ctx context.Context) (Liveness, error) {
	var l Liveness
	err := c.getJSON(ctx, "/health/liveness", &l)
	return l, err
}

// Readiness calls GET /health/readiness; a node that is shutting down
// answers with an *Error of status 503.
func (c *Client) Readiness(ctx context.Context) (Readiness, error) {
	var r Readiness
	err := c.getJSON(ctx, "/health/readiness", &r)
	return r, err
}
