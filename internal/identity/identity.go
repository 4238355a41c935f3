// Package identity creates, stores and loads a node's keys: the Ed25519
// identity (its NodeId and libp2p peer id) and the BLS12-381 consensus key.
//
// Both live in the data directory as key files (format.go), encrypted with
// the identity passphrase (Argon2id + XChaCha20-Poly1305) unless the caller
// explicitly allows plaintext. Files are written 0600 and never overwritten.
//
// The package reads and writes only its two files; it knows nothing of
// configuration, the network or the API.
package identity

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/onvm-network/onvm/internal/bls"
	"github.com/onvm-network/onvm/internal/id"
)

// File names inside the data directory (the original's).
const (
	IdentityFile = "identity"
	BLSFile      = "bls_identity"
)

// Keys are a node's secret keys.
type Keys struct {
	Ed25519 ed25519.PrivateKey
	BLS     *bls.SecretKey
}

// Node returns the node id: the Ed25519 public key.
func (k *Keys) Node() id.Node {
	var n id.Node
	copy(n[:], k.Ed25519.Public().(ed25519.PublicKey))
	return n
}

// Public describes the keys in a data directory without opening them.
type Public struct {
	Node      id.Node
	BLS       bls.PublicKey
	Encrypted bool // the identity file is encrypted
}

// Options say how to protect new keys and how to open existing ones.
type Options struct {
	// Passphrase encrypts new keys and opens existing encrypted ones.
	Passphrase []byte
	// AllowPlaintext permits writing keys without a passphrase and reading
	// plaintext key files.
	AllowPlaintext bool
	// KDF sets Argon2id parameters for new files; zero means DefaultKDF.
	KDF KDF
	// Rand is the randomness source; nil means crypto/rand.
	Rand io.Reader
}

func (o Options) kdf() KDF {
	if o.KDF == (KDF{}) {
		return DefaultKDF
	}
	return o.KDF
}

func (o Options) rand() io.Reader {
	if o.Rand == nil {
		return rand.Reader
	}
	return o.Rand
}

// Created reports which files Create wrote.
type Created struct {
	Identity, BLS bool
}

// Create makes whichever of the two key files is missing in dir and leaves
// existing ones untouched. New files are encrypted with opts.Passphrase;
// without one, opts.AllowPlaintext must be set. Creating a missing BLS key
// next to an existing identity does not need the identity opened.
func Create(dir string, opts Options) (Created, error) {
	var c Created
	have, err := exists(dir)
	if err != nil {
		return c, err
	}
	if have[0] && have[1] {
		return c, nil
	}
	if len(opts.Passphrase) == 0 && !opts.AllowPlaintext {
		return c, ErrEmptyPassphrase
	}
	for i, k := range []Kind{KindEd25519, KindBLS} {
		if have[i] {
			continue
		}
		name, public, secret, err := generate(k, opts.rand())
		if err != nil {
			return c, err
		}
		b, err := Encode(k, public, secret, opts.Passphrase, opts.kdf(), opts.rand())
		if err != nil {
			return c, err
		}
		wrote, err := writeNew(filepath.Join(dir, name), b)
		if err != nil {
			return c, err
		}
		if k == KindEd25519 {
			c.Identity = wrote
		} else {
			c.BLS = wrote
		}
	}
	return c, nil
}

func generate(k Kind, r io.Reader) (name string, public, secret []byte, err error) {
	switch k {
	case KindEd25519:
		pub, priv, err := ed25519.GenerateKey(r)
		if err != nil {
			return "", nil, nil, fmt.Errorf("generate Ed25519 key: %w", err)
		}
		return IdentityFile, pub, priv.Seed(), nil
	default:
		sk, err := bls.GenerateKey(r)
		if err != nil {
			return "", nil, nil, fmt.Errorf("generate BLS key: %w", err)
		}
		pk := sk.PublicKey()
		return BLSFile, pk[:], sk.Bytes(), nil
	}
}

// Inspect reads the public keys of dir's key files without a passphrase.
func Inspect(dir string) (Public, error) {
	var p Public
	id, err := readFile(dir, IdentityFile, KindEd25519)
	if err != nil {
		return p, err
	}
	b, err := readFile(dir, BLSFile, KindBLS)
	if err != nil {
		return p, err
	}
	copy(p.Node[:], id.Public)
	copy(p.BLS[:], b.Public)
	p.Encrypted = id.Encrypted
	return p, nil
}

// Load opens both key files of dir.
func Load(dir string, opts Options) (*Keys, error) {
	idf, err := readFile(dir, IdentityFile, KindEd25519)
	if err != nil {
		return nil, err
	}
	seed, err := idf.Open(opts.Passphrase, opts.AllowPlaintext)
	if err != nil {
		return nil, fmt.Errorf("load identity %s: %w", filepath.Join(dir, IdentityFile), err)
	}
	priv := ed25519.NewKeyFromSeed(seed)
	if err := idf.checkPublic(priv.Public().(ed25519.PublicKey)); err != nil {
		return nil, fmt.Errorf("load identity %s: %w", filepath.Join(dir, IdentityFile), err)
	}
	blsf, err := readFile(dir, BLSFile, KindBLS)
	if err != nil {
		return nil, err
	}
	secret, err := blsf.Open(opts.Passphrase, opts.AllowPlaintext)
	if err != nil {
		return nil, fmt.Errorf("load BLS key %s: %w", filepath.Join(dir, BLSFile), err)
	}
	sk, err := bls.SecretKeyFromBytes(secret)
	if err != nil {
		return nil, fmt.Errorf("load BLS key %s: %w: %w", filepath.Join(dir, BLSFile), ErrCorrupt, err)
	}
	pk := sk.PublicKey()
	if err := blsf.checkPublic(pk[:]); err != nil {
		return nil, fmt.Errorf("load BLS key %s: %w", filepath.Join(dir, BLSFile), err)
	}
	return &Keys{Ed25519: priv, BLS: sk}, nil
}

// Encrypted reports whether dir's identity file is encrypted.
func Encrypted(dir string) (bool, error) {
	f, err := readFile(dir, IdentityFile, KindEd25519)
	if err != nil {
		return false, err
	}
	return f.Encrypted, nil
}

func readFile(dir, name string, want Kind) (*File, error) {
	path := filepath.Join(dir, name)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("read %s: %w", path, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	f, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if f.Kind != want {
		return nil, fmt.Errorf("read %s: %w: holds a %s key, want %s", path, ErrCorrupt, f.Kind, want)
	}
	return f, nil
}

func exists(dir string) ([2]bool, error) {
	var have [2]bool
	for i, name := range []string{IdentityFile, BLSFile} {
		_, err := os.Stat(filepath.Join(dir, name))
		switch {
		case err == nil:
			have[i] = true
		case !errors.Is(err, fs.ErrNotExist):
			return have, err
		}
	}
	return have, nil
}

// writeNew writes b to path with mode 0600 unless path exists, durably and
// atomically: a temporary file is synced and then hard-linked into place,
// which fails rather than replacing a file that appeared meanwhile.
func writeNew(path string, b []byte) (bool, error) {
	if _, err := os.Lstat(path); err == nil {
		return false, nil
	}
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return false, fmt.Errorf("write %s: %w", path, err)
	}
	defer func() { _ = os.Remove(tmp.Name()) }() // gone after the link, or on error
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return false, fmt.Errorf("write %s: %w", path, err)
	}
	if _, err := io.Copy(tmp, bytes.NewReader(b)); err != nil {
		tmp.Close()
		return false, fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return false, fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return false, fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return false, nil
		}
		return false, fmt.Errorf("write %s: %w", path, err)
	}
	return true, syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}
