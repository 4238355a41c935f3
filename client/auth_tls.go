package client

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"os"
	"time"
)

// authOptions collect the options that change the client's transport;
// New applies them after every other option, so their order does not
// matter.
type authOptions struct {
	creds *Credentials
	roots *x509.CertPool
	node  string // WithNodeID
}

// LoadRootCAs reads PEM certificates (e.g. a node's self-signed
// certificate) to trust for https:// nodes.
func LoadRootCAs(path string) (*x509.CertPool, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("client: CA file: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("client: CA file %s: no PEM certificate found", path)
	}
	return pool, nil
}

// WithRootCAs trusts exactly pool (instead of the system roots) for
// https:// nodes.
func WithRootCAs(pool *x509.CertPool) Option {
	return func(c *Client) { c.auth.roots = pool }
}

// wrap returns h with the root CAs and the signing transport installed;
// h itself is not modified.
func (a authOptions) wrap(h *http.Client, baseURL string) *http.Client {
	if a.creds == nil && a.roots == nil {
		return h
	}
	out := *h
	base := h.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	if a.roots != nil {
		if t, ok := base.(*http.Transport); ok {
			t = t.Clone()
			if t.TLSClientConfig == nil {
				t.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
			}
			t.TLSClientConfig.RootCAs = a.roots
			base = t
		} else {
			base = errTransport{errors.New("client: WithRootCAs needs an *http.Transport")}
		}
	}
	if a.creds != nil {
		base = &signer{base: base, creds: *a.creds, now: time.Now, url: baseURL, node: a.node}
	}
	out.Transport = base
	return &out
}

type errTransport struct{ err error }

func (e errTransport) RoundTrip(*http.Request) (*http.Response, error) { return nil, e.err }
