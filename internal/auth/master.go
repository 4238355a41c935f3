package auth

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/onvm-network/onvm/internal/identity"
)

// MasterFile is the default name of the master secret file in the data
// directory (the original's).
const MasterFile = "rpc_auth.secret"

// MasterOptions say how the master secret file is protected.
type MasterOptions struct {
	// Passphrase is the identity passphrase. Empty means a plaintext file,
	// allowed only with AllowPlaintext (the identity is plaintext too).
	Passphrase     []byte
	AllowPlaintext bool
	// KDF protects a new file; zero means identity.DefaultKDF. The node
	// passes its identity file's parameters.
	KDF  identity.KDF
	Rand io.Reader
}

// LoadMaster returns the 32-byte master secret stored at path, creating it
// (mode 0600, random) when absent. The file is an identity key file of kind
// identity.KindSecret: Argon2id of the passphrase and XChaCha20-Poly1305.
func LoadMaster(path string, opts MasterOptions) ([]byte, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return createMaster(path, opts)
	}
	if err != nil {
		return nil, fmt.Errorf("read master secret %s: %w", path, err)
	}
	f, err := identity.Parse(b)
	if err != nil {
		return nil, fmt.Errorf("master secret %s: %w", path, err)
	}
	if f.Kind != identity.KindSecret {
		return nil, fmt.Errorf("master secret %s: %w (kind %s)", path, ErrMasterKind, f.Kind)
	}
	secret, err := f.Open(opts.Passphrase, opts.AllowPlaintext)
	if err != nil {
		return nil, fmt.Errorf("open master secret %s: %w", path, err)
	}
	return secret, nil
}

func createMaster(path string, opts MasterOptions) ([]byte, error) {
	if len(opts.Passphrase) == 0 && !opts.AllowPlaintext {
		return nil, fmt.Errorf("create master secret %s: %w", path, identity.ErrPassphraseRequired)
	}
	r := opts.Rand
	if r == nil {
		r = rand.Reader
	}
	kdf := opts.KDF
	if kdf == (identity.KDF{}) {
		kdf = identity.DefaultKDF
	}
	secret := make([]byte, SecretSize)
	if _, err := io.ReadFull(r, secret); err != nil {
		return nil, fmt.Errorf("create master secret: %w", err)
	}
	b, err := identity.Encode(identity.KindSecret, nil, secret, opts.Passphrase, kdf, r)
	if err != nil {
		return nil, fmt.Errorf("create master secret: %w", err)
	}
	if err := writeSecretFile(path, b); err != nil {
		return nil, fmt.Errorf("create master secret: %w", err)
	}
	return secret, nil
}

// writeSecretFile writes b to path atomically with mode 0600 and syncs the
// directory. An existing file is an error (never overwritten).
func writeSecretFile(path string, b []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer func() { _ = os.Remove(tmp.Name()) }()
	if err := tmp.Chmod(0o600); err != nil {
		_ = tmp.Close()
		return err
	}
	if _, err := tmp.Write(b); err != nil {
		_ = tmp.Close()
		return err
	}
	if err := errors.Join(tmp.Sync(), tmp.Close()); err != nil {
		return err
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		return err
	}
	return syncDir(filepath.Dir(path))
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	return errors.Join(d.Sync(), d.Close())
}
