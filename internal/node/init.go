package node

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/onvm-network/onvm/internal/config"
	"github.com/onvm-network/onvm/internal/identity"
)

// InitOptions configure Init.
type InitOptions struct {
	DataDir        string
	Passphrase     []byte
	AllowPlaintext bool
	EnableMDNS     bool         // written into a new config.toml
	KDF            identity.KDF // zero means identity.DefaultKDF
}

// InitResult says what Init found and did.
type InitResult struct {
	Public          identity.Public
	CreatedIdentity bool
	CreatedBLS      bool
	WroteConfig     bool
	ConfigPath      string
}

// Init prepares a data directory: the directory itself (0700), the key
// files and a commented config.toml with every default. Whatever already
// exists is left untouched, so Init can run any number of times.
func Init(opts InitOptions) (InitResult, error) {
	var r InitResult
	if err := os.MkdirAll(opts.DataDir, 0o700); err != nil {
		return r, fmt.Errorf("create data dir: %w", err)
	}
	c, err := identity.Create(opts.DataDir, identity.Options{
		Passphrase:     opts.Passphrase,
		AllowPlaintext: opts.AllowPlaintext,
		KDF:            opts.KDF,
	})
	if err != nil {
		return r, err
	}
	r.CreatedIdentity, r.CreatedBLS = c.Identity, c.BLS
	if r.Public, err = identity.Inspect(opts.DataDir); err != nil {
		return r, err
	}
	r.ConfigPath = filepath.Join(opts.DataDir, ConfigFile)
	cfg := config.Default()
	cfg.Network.EnableMDNS = opts.EnableMDNS
	f, err := os.OpenFile(r.ConfigPath, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return r, nil
	}
	if err != nil {
		return r, fmt.Errorf("write %s: %w", r.ConfigPath, err)
	}
	_, werr := f.WriteString(config.Template(cfg))
	if err := errors.Join(werr, f.Sync(), f.Close()); err != nil {
		return r, fmt.Errorf("write %s: %w", r.ConfigPath, err)
	}
	r.WroteConfig = true
	return r, nil
}

// IsInitialized reports whether dataDir holds an identity.
func IsInitialized(dataDir string) bool {
	_, err := os.Stat(filepath.Join(dataDir, identity.IdentityFile))
	return err == nil
}
