package identity

import (
	"bytes"
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// fastKDF keeps tests quick; TestDefaultKDF covers the real parameters.
var fastKDF = KDF{Time: 1, Memory: 64, Threads: 1}

func TestCreateLoad(t *testing.T) {
	tests := []struct {
		name      string
		create    Options
		load      Options
		wantErr   error
		encrypted bool
	}{
		{"encrypted", Options{Passphrase: []byte("pw"), KDF: fastKDF}, Options{Passphrase: []byte("pw")}, nil, true},
		{"plaintext", Options{AllowPlaintext: true}, Options{AllowPlaintext: true}, nil, false},
		{"wrong passphrase", Options{Passphrase: []byte("pw"), KDF: fastKDF}, Options{Passphrase: []byte("PW")}, ErrWrongPassphrase, true},
		{"missing passphrase", Options{Passphrase: []byte("pw"), KDF: fastKDF}, Options{AllowPlaintext: true}, ErrPassphraseRequired, true},
		{"plaintext not allowed", Options{AllowPlaintext: true}, Options{Passphrase: []byte("pw")}, ErrPlaintextDisallowed, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			c, err := Create(dir, tt.create)
			if err != nil {
				t.Fatal(err)
			}
			if !c.Identity || !c.BLS {
				t.Fatalf("Create = %+v, want both files created", c)
			}
			for _, name := range []string{IdentityFile, BLSFile} {
				fi, err := os.Stat(filepath.Join(dir, name))
				if err != nil {
					t.Fatal(err)
				}
				if fi.Mode().Perm() != 0o600 {
					t.Errorf("%s mode = %v, want 0600", name, fi.Mode().Perm())
				}
			}
			pub, err := Inspect(dir)
			if err != nil {
				t.Fatal(err)
			}
			if pub.Encrypted != tt.encrypted {
				t.Errorf("Encrypted = %v, want %v", pub.Encrypted, tt.encrypted)
			}
			keys, err := Load(dir, tt.load)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("Load err = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if keys.Node() != pub.Node {
				t.Errorf("node id %s, Inspect says %s", keys.Node(), pub.Node)
			}
			if keys.BLS.PublicKey() != pub.BLS {
				t.Error("BLS public key differs from Inspect")
			}
		})
	}
}

func TestCreateIsIdempotent(t *testing.T) {
	dir := t.TempDir()
	opts := Options{Passphrase: []byte("pw"), KDF: fastKDF}
	if _, err := Create(dir, opts); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(filepath.Join(dir, IdentityFile))
	// Again, with other protection: nothing is touched, no passphrase needed.
	c, err := Create(dir, Options{})
	if err != nil || c.Identity || c.BLS {
		t.Fatalf("second Create = %+v, %v; want nothing created", c, err)
	}
	after, _ := os.ReadFile(filepath.Join(dir, IdentityFile))
	if !bytes.Equal(before, after) {
		t.Fatal("identity file changed")
	}
	// A lost BLS key is recreated next to the existing identity.
	os.Remove(filepath.Join(dir, BLSFile))
	c, err = Create(dir, opts)
	if err != nil || c.Identity || !c.BLS {
		t.Fatalf("Create after losing BLS key = %+v, %v", c, err)
	}
	if _, err := Load(dir, Options{Passphrase: []byte("pw")}); err != nil {
		t.Fatal(err)
	}
}

func TestCreateNeedsPassphraseOrPlaintext(t *testing.T) {
	if _, err := Create(t.TempDir(), Options{}); !errors.Is(err, ErrEmptyPassphrase) {
		t.Fatalf("err = %v, want ErrEmptyPassphrase", err)
	}
}

func TestLoadMissing(t *testing.T) {
	if _, err := Load(t.TempDir(), Options{AllowPlaintext: true}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("err = %v, want ErrNotFound", err)
	}
}

func TestDefaultKDF(t *testing.T) {
	dir := t.TempDir()
	if _, err := Create(dir, Options{Passphrase: []byte("correct horse")}); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(dir, IdentityFile))
	f, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	if f.KDF != DefaultKDF || DefaultKDF != (KDF{Time: 2, Memory: 19456, Threads: 1}) {
		t.Errorf("KDF = %+v", f.KDF)
	}
	if _, err := Load(dir, Options{Passphrase: []byte("correct horse")}); err != nil {
		t.Fatal(err)
	}
}

// TestTamper flips every byte of both kinds of file: each edit must be
// reported as an error, never accepted or panicking.
func TestTamper(t *testing.T) {
	for _, pass := range [][]byte{nil, []byte("pw")} {
		dir := t.TempDir()
		if _, err := Create(dir, Options{Passphrase: pass, AllowPlaintext: true, KDF: fastKDF}); err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{IdentityFile, BLSFile} {
			path := filepath.Join(dir, name)
			orig, _ := os.ReadFile(path)
			for i := range orig {
				b := bytes.Clone(orig)
				b[i] ^= 0x01
				if err := os.WriteFile(path, b, 0o600); err != nil {
					t.Fatal(err)
				}
				if _, err := Load(dir, Options{Passphrase: pass, AllowPlaintext: true}); err == nil {
					t.Errorf("%s (encrypted=%v): flipping byte %d went unnoticed", name, pass != nil, i)
				}
			}
			for _, b := range [][]byte{orig[:len(orig)-1], append(bytes.Clone(orig), 0), nil} {
				os.WriteFile(path, b, 0o600)
				if _, err := Load(dir, Options{Passphrase: pass, AllowPlaintext: true}); !errors.Is(err, ErrCorrupt) {
					t.Errorf("%s: length %d: err = %v, want ErrCorrupt", name, len(b), err)
				}
			}
			os.WriteFile(path, orig, 0o600)
		}
	}
}

func TestSwappedFiles(t *testing.T) {
	dir := t.TempDir()
	if _, err := Create(dir, Options{AllowPlaintext: true}); err != nil {
		t.Fatal(err)
	}
	a, _ := os.ReadFile(filepath.Join(dir, IdentityFile))
	b, _ := os.ReadFile(filepath.Join(dir, BLSFile))
	os.WriteFile(filepath.Join(dir, IdentityFile), b, 0o600)
	os.WriteFile(filepath.Join(dir, BLSFile), a, 0o600)
	if _, err := Load(dir, Options{AllowPlaintext: true}); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("err = %v, want ErrCorrupt", err)
	}
}

func FuzzParseOpen(f *testing.F) {
	pub := make([]byte, 32)
	sec := make([]byte, 32)
	plain, _ := Encode(KindEd25519, pub, sec, nil, fastKDF, rand.Reader)
	sealed, _ := Encode(KindEd25519, pub, sec, []byte("pw"), fastKDF, rand.Reader)
	f.Add(plain)
	f.Add(sealed)
	f.Fuzz(func(t *testing.T, b []byte) {
		file, err := Parse(b)
		if err != nil {
			return
		}
		if file.KDF.Memory > 4096 || file.KDF.Time > 2 {
			return // keep fuzzing fast; bounds are checked by Parse
		}
		if s, err := file.Open([]byte("pw"), true); err == nil && len(s) != 32 {
			t.Fatalf("opened secret of %d bytes", len(s))
		}
	})
}
