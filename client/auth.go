package client

import (
	"bufio"
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/onvm-network/onvm/client/wire"
)

// Request signing. A client built WithCredentials signs every request it
// sends (whatever method sends it) with the project's secret: headers
// x-project-id, x-timestamp (Unix ms), x-nonce, x-content-sha256 (SHA-256 of
// the raw body) and x-signature, the hex HMAC-SHA256 of
//
//	ONVM2-HMAC-SHA256\n<node id>\n<METHOD>\n<path?query>\n<project id>\n<timestamp>\n<nonce>\n<hex body SHA-256>
//
// (docs/security.md). The node id (64 hex digits) names the node the
// request is for, so no other node accepts it; the client learns it from
// the node's public GET /health/liveness before its first signed request,
// unless WithNodeID pins it. The body hash must be known before the body is sent:
// bodies of in-memory requests are hashed directly; a streamed body (a
// large file) needs WithBodySHA256 on the request's context, otherwise up to
// 32 MiB of it are buffered to hash it and a larger one is ErrUnsignedBody.

// ErrUnsignedBody means a streamed request body could not be signed because
// its SHA-256 was not given (WithBodySHA256).
var ErrUnsignedBody = errors.New("client: cannot sign a streamed body over 32 MiB without its SHA-256 (use client.WithBodySHA256)")

// maxSignBuffer is the largest body of unknown hash that signing buffers.
const maxSignBuffer = 32 << 20

// Credentials are a project's id and 32-byte secret.
type Credentials struct {
	ProjectID string
	Secret    []byte
}

// String never shows the secret.
func (c Credentials) String() string { return "project " + c.ProjectID }

// ParseSecret decodes a project secret (64 hex digits).
func ParseSecret(s string) ([]byte, error) {
	b, err := hex.DecodeString(strings.TrimSpace(s))
	if err != nil || len(b) != 32 {
		return nil, errors.New("client: project secret must be 64 hex digits")
	}
	return b, nil
}

// ParseCredentials reads "project_id=…" and "project_secret=…" lines, the
// output of `onvm generate-project`. Blank lines and lines starting with #
// are ignored; other keys are an error.
func ParseCredentials(r io.Reader) (Credentials, error) {
	var c Credentials
	sc := bufio.NewScanner(io.LimitReader(r, 64<<10))
	line := 0
	for sc.Scan() {
		line++
		s := strings.TrimSpace(sc.Text())
		if s == "" || strings.HasPrefix(s, "#") {
			continue
		}
		k, v, ok := strings.Cut(s, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		switch {
		case !ok:
			return c, fmt.Errorf("client: credentials line %d: want key=value", line)
		case k == "project_id":
			c.ProjectID = v
		case k == "project_secret":
			secret, err := ParseSecret(v)
			if err != nil {
				return c, fmt.Errorf("credentials line %d: %w", line, err)
			}
			c.Secret = secret
		default:
			return c, fmt.Errorf("client: credentials line %d: unknown key %q", line, k)
		}
	}
	if err := sc.Err(); err != nil {
		return c, fmt.Errorf("client: read credentials: %w", err)
	}
	if c.ProjectID == "" || c.Secret == nil {
		return c, errors.New("client: credentials need both project_id and project_secret")
	}
	return c, nil
}

// LoadCredentials reads a credentials file (see ParseCredentials).
func LoadCredentials(path string) (Credentials, error) {
	f, err := os.Open(path)
	if err != nil {
		return Credentials{}, fmt.Errorf("client: %w", err)
	}
	defer f.Close()
	c, err := ParseCredentials(f)
	if err != nil {
		return c, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// WithCredentials makes the client sign every request with c.
func WithCredentials(c Credentials) Option {
	return func(cl *Client) { cl.auth.creds = &c }
}

// WithNodeID pins the id of the node the client signs for (64 hex
// digits, as /health/liveness and `onvm run-node` show it) instead of
// asking the node. A request to a node with another id is then refused
// with 401 bad_signature.
func WithNodeID(node string) Option {
	return func(cl *Client) { cl.auth.node = strings.ToLower(strings.TrimSpace(node)) }
}

// Signs reports whether the client signs its requests.
func (c *Client) Signs() bool { return c.auth.creds != nil }

type bodySumKey struct{}

// WithBodySHA256 tells the signing transport the SHA-256 of the body of
// requests made with ctx, so a streamed body is signed without buffering.
// The node checks the streamed bytes against it and rejects (and does not
// store) a body that differs.
func WithBodySHA256(ctx context.Context, sum [32]byte) context.Context {
	return context.WithValue(ctx, bodySumKey{}, sum)
}

// signer is the signing http.RoundTripper.
type signer struct {
	base  http.RoundTripper
	creds Credentials
	now   func() time.Time
	url   string // the node's base URL, for /health/liveness

	mu   sync.Mutex
	node string // the node id signed for; "" until learned
}

// nodeID returns the id of the node signed for, asking the node's public
// liveness route the first time. A failure is not remembered.
func (s *signer) nodeID(ctx context.Context) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.node != "" {
		return s.node, nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url+"/health/liveness", nil)
	if err != nil {
		return "", fmt.Errorf("client: learn node id: %w", err)
	}
	resp, err := s.base.RoundTrip(req)
	if err != nil {
		return "", fmt.Errorf("client: learn node id: %w", err)
	}
	defer resp.Body.Close()
	var l wire.Liveness
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("client: learn node id: GET /health/liveness: HTTP %d", resp.StatusCode)
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&l); err != nil {
		return "", fmt.Errorf("client: learn node id: %w", err)
	}
	if !validNodeID(l.NodeID) {
		return "", fmt.Errorf("client: learn node id: the node reported %q, not 64 hex digits (a node too old to be signed for?)", l.NodeID)
	}
	s.node = l.NodeID
	return s.node, nil
}

func validNodeID(s string) bool {
	if len(s) != 64 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil && s == strings.ToLower(s)
}

func (s *signer) RoundTrip(req *http.Request) (*http.Response, error) {
	sum, body, err := bodySum(req)
	if err != nil {
		if req.Body != nil {
			_ = req.Body.Close()
		}
		return nil, err
	}
	node, err := s.nodeID(req.Context())
	if err != nil {
		if req.Body != nil {
			_ = req.Body.Close()
		}
		return nil, err
	}
	out := req.Clone(req.Context())
	if body != nil {
		out.Body = io.NopCloser(bytes.NewReader(body))
	}
	var nonce [16]byte
	if _, err := rand.Read(nonce[:]); err != nil {
		return nil, fmt.Errorf("client: nonce: %w", err)
	}
	ts := strconv.FormatInt(s.now().UnixMilli(), 10)
	n := hex.EncodeToString(nonce[:])
	sumHex := hex.EncodeToString(sum[:])
	m := hmac.New(sha256.New, s.creds.Secret)
	_, _ = io.WriteString(m, "ONVM2-HMAC-SHA256\n"+node+"\n"+out.Method+"\n"+out.URL.RequestURI()+"\n"+s.creds.ProjectID+"\n"+ts+"\n"+n+"\n"+sumHex)
	h := out.Header
	h.Set("X-Project-Id", s.creds.ProjectID)
	h.Set("X-Timestamp", ts)
	h.Set("X-Nonce", n)
	h.Set("X-Content-Sha256", sumHex)
	h.Set("X-Signature", hex.EncodeToString(m.Sum(nil)))
	return s.base.RoundTrip(out)
}

// bodySum returns the SHA-256 of req's body: from the context, by
// re-reading a replayable body, or by buffering (then body holds the
// bytes to send).
func bodySum(req *http.Request) (sum [32]byte, body []byte, err error) {
	if v, ok := req.Context().Value(bodySumKey{}).([32]byte); ok {
		return v, nil, nil
	}
	if req.Body == nil || req.Body == http.NoBody {
		return sha256.Sum256(nil), nil, nil
	}
	if req.GetBody != nil {
		rc, err := req.GetBody()
		if err != nil {
			return sum, nil, fmt.Errorf("client: sign: %w", err)
		}
		defer rc.Close()
		h := sha256.New()
		if _, err := io.Copy(h, rc); err != nil {
			return sum, nil, fmt.Errorf("client: sign: %w", err)
		}
		h.Sum(sum[:0])
		return sum, nil, nil
	}
	b, err := io.ReadAll(io.LimitReader(req.Body, maxSignBuffer+1))
	_ = req.Body.Close()
	if err != nil {
		return sum, nil, fmt.Errorf("client: sign: %w", err)
	}
	if len(b) > maxSignBuffer {
		return sum, nil, ErrUnsignedBody
	}
	return sha256.Sum256(b), b, nil
}
