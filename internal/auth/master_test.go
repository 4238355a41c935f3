package auth

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/onvm-network/onvm/internal/identity"
)

var fastKDF = identity.KDF{Time: 1, Memory: 64, Threads: 1}

func TestLoadMaster(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, MasterFile)
	pw := []byte("correct horse")
	m1, err := LoadMaster(path, MasterOptions{Passphrase: pw, KDF: fastKDF})
	if err != nil || len(m1) != 32 {
		t.Fatalf("create: %d bytes, %v", len(m1), err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, %v", fi.Mode(), err)
	}
	raw, _ := os.ReadFile(path)
	if bytes.Contains(raw, m1) {
		t.Fatal("master secret stored in clear")
	}
	m2, err := LoadMaster(path, MasterOptions{Passphrase: pw})
	if err != nil || !bytes.Equal(m1, m2) {
		t.Fatalf("reload: %v", err)
	}
	if _, err := LoadMaster(path, MasterOptions{Passphrase: []byte("wrong")}); !errors.Is(err, identity.ErrWrongPassphrase) {
		t.Errorf("wrong passphrase = %v", err)
	}
	if _, err := LoadMaster(path, MasterOptions{}); !errors.Is(err, identity.ErrPassphraseRequired) {
		t.Errorf("no passphrase = %v", err)
	}
	if _, err := LoadMaster(filepath.Join(dir, "new"), MasterOptions{}); !errors.Is(err, identity.ErrPassphraseRequired) {
		t.Errorf("create without passphrase = %v", err)
	}
	plain := filepath.Join(dir, "plain")
	if _, err := LoadMaster(plain, MasterOptions{AllowPlaintext: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadMaster(plain, MasterOptions{}); !errors.Is(err, identity.ErrPlaintextDisallowed) {
		t.Errorf("plaintext without permission = %v", err)
	}
	// An identity key file is not a master secret.
	if _, err := identity.Create(dir, identity.Options{AllowPlaintext: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadMaster(filepath.Join(dir, identity.IdentityFile), MasterOptions{AllowPlaintext: true}); !errors.Is(err, ErrMasterKind) {
		t.Errorf("identity file as master = %v", err)
	}
}

func TestCookie(t *testing.T) {
	dir := t.TempDir()
	c1, err := WriteCookie(dir)
	if err != nil || len(c1) != 64 {
		t.Fatal(c1, err)
	}
	fi, _ := os.Stat(filepath.Join(dir, CookieFile))
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("cookie mode %v", fi.Mode())
	}
	c2, _ := WriteCookie(dir)
	if c1 == c2 {
		t.Fatal("cookie not rotated")
	}
	got, err := ReadCookie(dir)
	if err != nil || !CookieEqual(c2, got) || CookieEqual(c1, got) || CookieEqual("", "") {
		t.Fatalf("ReadCookie = %q, %v", got, err)
	}
	if err := RemoveCookie(dir, c1); err != nil { // stale: left alone
		t.Fatal(err)
	}
	if _, err := ReadCookie(dir); err != nil {
		t.Fatal("a stale RemoveCookie deleted the current cookie")
	}
	if err := RemoveCookie(dir, c2); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadCookie(dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("cookie left behind: %v", err)
	}
}
