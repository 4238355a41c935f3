package program

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/cockroachdb/pebble/v2"

	"github.com/onvm-network/onvm/internal/bls"
	"github.com/onvm-network/onvm/internal/consensus"
	"github.com/onvm-network/onvm/internal/id"
)

func openDB(t *testing.T) *pebble.DB {
	t.Helper()
	db, err := pebble.Open(filepath.Join(t.TempDir(), "db"), &pebble.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// codeMap is a CodeSource over a map.
type codeMap map[id.Blob][]byte

func (c codeMap) LocalCode(_ context.Context, b id.Blob) ([]byte, bool, error) {
	code, ok := c[b]
	return code, ok, nil
}

// manifestFor signs a manifest for code and salt.
func manifestFor(t *testing.T, key ed25519.PrivateKey, code, salt []byte, ts int64) *Manifest {
	t.Helper()
	sk, _ := bls.GenerateKey(bytes.NewReader(bytes.Repeat([]byte{4}, 32)))
	node := id.Node(key.Public().(ed25519.PublicKey))
	p := id.ProgramOf(code, salt)
	c, err := consensus.SelectCommittee(p, []consensus.Validator{{Node: node, BLSKey: sk.PublicKey(), Proof: sk.Prove()}}, 1)
	if err != nil {
		t.Fatal(err)
	}
	m, err := Sign(Body{
		Program: p, Version: ManifestVersion, Deployer: node, Entrypoints: []string{"onvm_main"},
		EnvHash: id.Sum([]byte("env")), CodeBlob: id.BlobOf(code), CodeSize: int64(len(code)),
		Instrumented: id.BlobOf([]byte("instrumented")), Salt: salt, InitialRoot: id.Hash{1},
		Committee: c, Timestamp: ts,
	}, key)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestCatalogPutGet(t *testing.T) {
	m, code, key := testManifest(t)
	cat := NewCatalog(openDB(t), codeMap{m.Body.CodeBlob: code})
	ctx := t.Context()

	got, created, err := cat.Put(ctx, m)
	if err != nil || !created || got.ID() != m.ID() {
		t.Fatalf("first put: created %v, %v", created, err)
	}
	got, created, err = cat.Put(ctx, m)
	if err != nil || created || got.ID() != m.ID() {
		t.Fatalf("second put: created %v, %v", created, err)
	}
	back, err := cat.Get(m.Body.Program)
	if err != nil || back.ID() != m.ID() {
		t.Fatalf("get: %v", err)
	}

	// Same program id, another manifest (later timestamp): conflict, the
	// first stays.
	other := manifestFor(t, key, code, m.Body.Salt, m.Body.Timestamp+1)
	got, _, err = cat.Put(ctx, other)
	if !errors.Is(err, ErrConflict) || got.ID() != m.ID() {
		t.Fatalf("conflicting put: %v", err)
	}
	if _, err := cat.Get(id.Program{9}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown program: %v", err)
	}
}

func TestCatalogRejects(t *testing.T) {
	m, code, _ := testManifest(t)
	ctx := t.Context()
	tests := []struct {
		name string
		code codeMap
		edit func(m *Manifest)
		want error
	}{
		{"bad signature", nil, func(m *Manifest) { m.Signature[0] ^= 1 }, ErrBadSignature},
		{"field changed after signing", nil, func(m *Manifest) { m.Body.Timestamp++ }, ErrBadSignature},
		{"local code is not the program's", codeMap{m.Body.CodeBlob: append(bytes.Clone(code), 1)}, nil, ErrCodeMismatch},
		{"bad shape", nil, func(m *Manifest) { m.Body.Entrypoints = nil }, ErrInvalidManifest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mm := *m
			mm.Signature = bytes.Clone(m.Signature)
			if tt.edit != nil {
				tt.edit(&mm)
			}
			cat := NewCatalog(openDB(t), tt.code)
			if _, _, err := cat.Put(ctx, &mm); !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			if _, err := cat.Get(m.Body.Program); !errors.Is(err, ErrNotFound) {
				t.Fatalf("rejected manifest stored: %v", err)
			}
		})
	}
}

func TestCatalogList(t *testing.T) {
	_, _, key := testManifest(t)
	db := openDB(t)
	cat := NewCatalog(db, nil)
	const n = 7
	want := map[id.Program]bool{}
	for i := range n {
		m := manifestFor(t, key, []byte(fmt.Sprintf("\x00asm\x01\x00\x00\x00 code %d", i)), nil, 1)
		if _, _, err := cat.Put(t.Context(), m); err != nil {
			t.Fatal(err)
		}
		want[m.Body.Program] = true
	}
	// A fresh catalog (empty cache) pages through the database.
	cat = NewCatalog(db, nil)
	var after *id.Program
	var pages int
	seen := map[id.Program]bool{}
	var last id.Program
	for {
		ms, more, err := cat.List(after, 3)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, m := range ms {
			p := m.Body.Program
			if seen[p] || bytes.Compare(p[:], last[:]) <= 0 {
				t.Fatalf("page %d: %s out of order or repeated", pages, p)
			}
			seen[p], last = true, p
		}
		if !more {
			break
		}
		after = &ms[len(ms)-1].Body.Program
	}
	if pages != 3 || len(seen) != n {
		t.Fatalf("%d pages, %d programs; want 3, %d", pages, len(seen), n)
	}
	for p := range want {
		if !seen[p] {
			t.Fatalf("%s not listed", p)
		}
	}
}
