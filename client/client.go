// Package client is the public Go client of an ONVM node's HTTP API.
//
//	c, err := client.New(":8080")
//	ref, err := c.UploadBlob(ctx, file, size, "application/pdf")
//	err = c.GetBlob(ctx, ref.ID, out) // verified against the id
//
// Uploads and downloads stream: memory does not grow with blob size.
// Downloads are verified: GetBlob hashes what it receives and fails with
// ErrMismatch unless the BLAKE3 equals the requested id. A non-2xx answer is
// an *Error carrying the node's status, code and message.
//
// VerifyReceipt checks a receipt against its committee's keys offline.
//
// The package speaks HTTP only; it must not import the node's internals
// beyond id parsing and the pure BLS and receipt core receipts are
// verified with.
package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/onvm-network/onvm/client/wire"
)

// DefaultRPC is the address clients use when given none.
const DefaultRPC = "127.0.0.1:8080"

// Client talks to one node. It is safe for concurrent use.
type Client struct {
	base string
	http *http.Client
	ua   string
	auth authOptions // signing and TLS roots (auth.go, auth_tls.go)
}

// defaultHTTP is http.DefaultTransport with larger connection buffers, which
// blob streams move through faster than through the 4 KiB default.
var defaultHTTP = func() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.WriteBufferSize = 256 << 10
	t.ReadBufferSize = 256 << 10
	return &http.Client{Transport: t}
}()

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient sets the HTTP client (timeouts, transport, TLS).
func WithHTTPClient(h *http.Client) Option { return func(c *Client) { c.http = h } }

// WithUserAgent sets the User-Agent header.
func WithUserAgent(ua string) Option { return func(c *Client) { c.ua = ua } }

// New returns a client for the node at rpc, normalised like the original
// CLI: ":8080" becomes http://127.0.0.1:8080, an http:// or https:// URL is
// kept, anything else gets http:// prepended.
func New(rpc string, opts ...Option) (*Client, error) {
	base, err := NormalizeRPC(rpc)
	if err != nil {
		return nil, err
	}
	c := &Client{base: base, http: defaultHTTP, ua: "onvm-client"}
	for _, o := range opts {
		o(c)
	}
	c.http = c.auth.wrap(c.http, base)
	return c, nil
}

// NormalizeRPC turns an --rpc value into a base URL without trailing slash.
func NormalizeRPC(rpc string) (string, error) {
	rpc = strings.TrimSpace(rpc)
	switch {
	case rpc == "":
		return "", errors.New("client: empty RPC address")
	case strings.HasPrefix(rpc, ":"):
		rpc = "http://127.0.0.1" + rpc
	case strings.HasPrefix(rpc, "http://"), strings.HasPrefix(rpc, "https://"):
	case strings.Contains(rpc, "://"):
		scheme, _, _ := strings.Cut(rpc, "://")
		return "", fmt.Errorf("client: RPC address %q: scheme %q is not http or https", rpc, scheme)
	default:
		rpc = "http://" + rpc
	}
	u, err := url.Parse(rpc)
	if err != nil {
		return "", fmt.Errorf("client: RPC address %q: %w", rpc, err)
	}
	if u.Hostname() == "" {
		return "", fmt.Errorf("client: RPC address %q has no host", rpc)
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return "", fmt.Errorf("client: RPC address %q: port %q is not 1-65535", rpc, p)
		}
	} else if strings.HasSuffix(u.Host, ":") {
		return "", fmt.Errorf("client: RPC address %q: empty port", rpc)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("client: RPC address %q: only scheme, host, port and path are allowed", rpc)
	}
	return strings.TrimRight(rpc, "/"), nil
}

// URL returns the node's base URL.
func (c *Client) URL() string { return c.base }

// do sends a request and returns the response when the status is 2xx (or
// 304/206 callers asked for); otherwise it returns an *Error.
func (c *Client) do(req *http.Request) (*http.Response, error) {
	req.Header.Set("User-Agent", c.ua)
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", req.Method, req.URL.Path, err)
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return resp, nil
	}
	defer resp.Body.Close()
	return nil, decodeError(resp)
}

// decodeError reads a JSON error body, or falls back to the status text and
// a prefix of the body.
func decodeError(resp *http.Response) error {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var body wire.ErrorBody
	e := &Error{Status: resp.StatusCode}
	if json.Unmarshal(b, &body) == nil && body.Error.Code != "" {
		e.Code, e.Message = body.Error.Code, body.Error.Message
		return e
	}
	e.Code = strings.ToLower(strings.ReplaceAll(http.StatusText(resp.StatusCode), " ", "_"))
	e.Message = strings.TrimSpace(string(b))
	if e.Message == "" {
		e.Message = http.StatusText(resp.StatusCode)
	}
	return e
}

func (c *Client) getJSON(ctx context.Context, path string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+path, nil)
	if err != nil {
		return err
	}
	resp, err := c.do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		return fmt.Errorf("GET %s: decode response: %w", path, err)
	}
	return nil
}
