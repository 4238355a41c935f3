package client

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"

	"github.com/onvm-network/onvm/client/wire"
)

// Project administration. These calls use the node's admin routes, which
// take the admin cookie from the node's data directory
// (<data-dir>/admin.cookie) and accept only loopback connections: they are
// for tools running on the node's machine, such as `onvm generate-project`.

// headerAdminCookie carries the cookie.
const headerAdminCookie = "X-Admin-Cookie"

// CreateProject registers a project. Empty id and nil secret make the
// node pick random ones. The returned credentials are the only time the
// secret is shown.
func (c *Client) CreateProject(ctx context.Context, cookie, projectID string, secret []byte) (Credentials, error) {
	body := wire.NewProject{ProjectID: projectID}
	if secret != nil {
		body.ProjectSecret = hex.EncodeToString(secret)
	}
	b, _ := json.Marshal(body)
	var out wire.CreatedProject
	if err := c.admin(ctx, http.MethodPost, "/admin/projects", cookie, b, &out); err != nil {
		return Credentials{}, err
	}
	s, err := ParseSecret(out.ProjectSecret)
	if err != nil {
		return Credentials{}, fmt.Errorf("POST /admin/projects: %w", err)
	}
	return Credentials{ProjectID: out.ProjectID, Secret: s}, nil
}

// ListProjects returns the node's projects.
func (c *Client) ListProjects(ctx context.Context, cookie string) ([]Project, error) {
	var out wire.ProjectList
	err := c.admin(ctx, http.MethodGet, "/admin/projects", cookie, nil, &out)
	return out.Projects, err
}

// RevokeProject deletes a project; its requests fail at once.
func (c *Client) RevokeProject(ctx context.Context, cookie, projectID string) error {
	return c.admin(ctx, http.MethodDelete, "/admin/projects/"+url.PathEscape(projectID), cookie, nil, nil)
}

func (c *Client) admin(ctx context.Context, method, path, cookie string, body []byte, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set(headerAdminCookie, cookie)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if out == nil {
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("%s %s: decode response: %w", method, path, err)
	}
	return nil
}

// CheckAuth sends a signed GET /auth/check: nil error means the node
// accepted the client's credentials (or has authentication off).
func (c *Client) CheckAuth(ctx context.Context) (AuthCheck, error) {
	var a AuthCheck
	err := c.getJSON(ctx, "/auth/check", &a)
	return a, err
}
