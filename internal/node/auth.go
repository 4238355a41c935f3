package node

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/onvm-network/onvm/internal/api"
	"github.com/onvm-network/onvm/internal/auth"
	"github.com/onvm-network/onvm/internal/config"
	"github.com/onvm-network/onvm/internal/identity"
)

// openAuth opens the project store and writes a fresh admin cookie when
// authentication is on. With --dev or enable_rpc_auth = false it returns
// the zero options (every route open) and says so in the log.
func (n *Node) openAuth(cfg config.RPCAuth) (api.AuthOptions, error) {
	dir := n.opts.DataDir
	if n.opts.Dev || !cfg.Enable {
		n.log.Warn("RPC AUTHENTICATION IS OFF: every API route is open to whoever reaches it",
			"dev", n.opts.Dev, "enable_rpc_auth", cfg.Enable)
		return api.AuthOptions{}, nil
	}
	if fi, err := os.Stat(dir); err == nil && fi.Mode().Perm()&0o077 != 0 {
		n.log.Warn("data directory is accessible to other users; chmod 700 it", "dir", dir, "mode", fi.Mode().Perm().String())
	}
	master, err := auth.LoadMaster(n.dataPath(cfg.SecretPath), auth.MasterOptions{
		Passphrase:     n.opts.Passphrase,
		AllowPlaintext: n.opts.AllowPlaintext,
		KDF:            identityKDF(dir),
	})
	if err != nil {
		return api.AuthOptions{}, fmt.Errorf("rpc auth: %w", err)
	}
	store, err := auth.Open(n.db, master, auth.Config{
		Skew:           time.Duration(cfg.SkewMs) * time.Millisecond,
		NonceTTL:       time.Duration(cfg.NonceTTLMs) * time.Millisecond,
		NonceCapacity:  cfg.NonceCapacity,
		RatePerMinute:  cfg.RatePerMinute,
		RateBurst:      cfg.RateBurst,
		AllowedMethods: cfg.AllowedMethods,
	})
	clear(master)
	if err != nil {
		return api.AuthOptions{}, err
	}
	for _, id := range store.Skipped() {
		n.log.Warn("project record does not open with this node's master secret; revoke it", "project", id)
	}
	cookie, err := auth.WriteCookie(dir)
	if err != nil {
		return api.AuthOptions{}, err
	}
	n.closers = append(n.closers, func() error { return auth.RemoveCookie(dir, cookie) })
	n.log.Info("RPC authentication on", "projects", len(store.List()),
		"admin_cookie", filepath.Join(dir, auth.CookieFile))
	return api.AuthOptions{
		Verifier: store, Projects: store, Cookie: cookie,
		MaxBody: cfg.MaxBodySize, PublicMetrics: cfg.PublicMetrics,
		MaxExecutions: cfg.MaxExecutions, MaxDeploys: cfg.MaxDeploys,
	}, nil
}

// listenTLS wraps the API listener in TLS when rpc.tls_cert is set.
func (n *Node) listenTLS(cfg config.RPC) error {
	if cfg.TLSCert == "" {
		return nil
	}
	ln, err := api.TLSListener(n.ln, n.dataPath(cfg.TLSCert), n.dataPath(cfg.TLSKey))
	if err != nil {
		return err
	}
	n.ln, n.tls = ln, true
	return nil
}

// dataPath resolves a configured path relative to the data directory.
func (n *Node) dataPath(p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(n.opts.DataDir, p)
}

// identityKDF returns the Argon2id parameters of the identity file, so the
// master secret is exactly as hard to open; zero (the default) if unknown.
func identityKDF(dir string) identity.KDF {
	b, err := os.ReadFile(filepath.Join(dir, identity.IdentityFile))
	if errors.Is(err, fs.ErrNotExist) || err != nil {
		return identity.KDF{}
	}
	f, err := identity.Parse(b)
	if err != nil {
		return identity.KDF{}
	}
	return f.KDF
}
