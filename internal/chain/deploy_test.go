package chain

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/onvm-network/onvm/internal/id"
	"github.com/onvm-network/onvm/internal/state"
	"github.com/onvm-network/onvm/internal/wasm"
)

func TestDeploy(t *testing.T) {
	e := newEnv(t, 1)
	code := sample(t, "echo")
	ref := id.BlobOf([]byte("ref"))
	m, created, err := e.engine.Deploy(t.Context(), DeployRequest{Code: code, Entrypoint: "onvm_main", Salt: []byte("s"), BlobRefs: []id.Blob{ref}})
	if err != nil || !created {
		t.Fatalf("deploy: created %v, %v", created, err)
	}
	b := &m.Body
	switch {
	case b.Program != id.ProgramOf(code, []byte("s")):
		t.Fatal("program id is not BLAKE3(code ‖ salt)")
	case b.Deployer != e.keys.Node() || b.InitialRoot != state.EmptyRoot || b.EnvHash != wasm.EnvHash():
		t.Fatalf("manifest body %+v", b)
	case len(b.BlobRefs) != 1 || b.BlobRefs[0] != ref || b.Entrypoints[0] != "onvm_main":
		t.Fatalf("manifest body %+v", b)
	case len(b.Committee.Members) != 1 || b.Committee.Members[0].Node != e.keys.Node() || b.Committee.Threshold != 1:
		t.Fatalf("committee %+v", b.Committee)
	}
	if err := m.VerifyCode(code); err != nil {
		t.Fatal(err)
	}
	// Both modules are stored as blobs; the instrumented one is what runs.
	for _, bl := range []id.Blob{b.CodeBlob, b.Instrumented} {
		if info, err := e.blobs.Stat(t.Context(), bl); err != nil || !info.Complete {
			t.Fatalf("blob %s: %v", bl, err)
		}
	}
	// Same code and salt: the same program, not re-created.
	again, created, err := e.engine.Deploy(t.Context(), DeployRequest{Code: code, Entrypoint: "onvm_main", Salt: []byte("s")})
	if err != nil || created || again.ID() != m.ID() {
		t.Fatalf("re-deploy: created %v, %v", created, err)
	}
	// No salt: a random one, so a new program each time.
	r1, _, err1 := e.engine.Deploy(t.Context(), DeployRequest{Code: code, Entrypoint: "onvm_main"})
	r2, _, err2 := e.engine.Deploy(t.Context(), DeployRequest{Code: code, Entrypoint: "onvm_main"})
	if err1 != nil || err2 != nil || r1.Body.Program == r2.Body.Program || len(r1.Body.Salt) != SaltSize {
		t.Fatalf("random salts: %v %v", err1, err2)
	}
	// From an uploaded blob.
	bl := b.CodeBlob
	fromBlob, created, err := e.engine.Deploy(t.Context(), DeployRequest{CodeBlob: &bl, Entrypoint: "onvm_main", Salt: []byte("s2")})
	if err != nil || !created || fromBlob.Body.Program != id.ProgramOf(code, []byte("s2")) {
		t.Fatalf("deploy from blob: %v", err)
	}
	if o := e.exec(t, fromBlob.Body.Program, "hello world"); string(o.Output) != "HELLO WORLD" {
		t.Fatalf("output %q", o.Output)
	}
}

func TestDeployRejects(t *testing.T) {
	e := newEnv(t, 1)
	code := sample(t, "echo")
	missing := id.BlobOf([]byte("nope"))
	tests := []struct {
		name    string
		req     DeployRequest
		want    error
		message string
	}{
		{"not wasm", DeployRequest{Code: []byte("hello"), Entrypoint: "onvm_main"}, wasm.ErrInvalidModule, "decode"},
		{"no such entrypoint", DeployRequest{Code: code, Entrypoint: "main2"}, wasm.ErrInvalidModule, "main2"},
		{"foreign import", DeployRequest{Code: foreignImport(), Entrypoint: "run"}, wasm.ErrInvalidModule, "evil"},
		{"no entrypoint", DeployRequest{Code: code}, ErrInvalidRequest, "entrypoint"},
		{"empty module", DeployRequest{Entrypoint: "onvm_main"}, ErrInvalidRequest, "empty"},
		{"salt too long", DeployRequest{Code: code, Entrypoint: "onvm_main", Salt: make([]byte, 65)}, ErrInvalidRequest, "salt"},
		{"missing code blob", DeployRequest{CodeBlob: &missing, Entrypoint: "onvm_main"}, nil, "not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := e.engine.Deploy(t.Context(), tt.req)
			if err == nil || (tt.want != nil && !errors.Is(err, tt.want)) || !strings.Contains(err.Error(), tt.message) {
				t.Fatalf("got %v, want %v mentioning %q", err, tt.want, tt.message)
			}
		})
	}
	if ms, _, _ := e.catalog.List(nil, 10); len(ms) != 0 {
		t.Fatalf("%d programs stored after rejected deploys", len(ms))
	}
}

// foreignImport is a module importing a function outside the host ABI.
func foreignImport() []byte {
	var b bytes.Buffer
	b.Write([]byte("\x00asm\x01\x00\x00\x00"))
	sec := func(id byte, payload ...byte) { b.WriteByte(id); b.WriteByte(byte(len(payload))); b.Write(payload) }
	sec(1, 1, 0x60, 0, 0)                            // type 0: () -> ()
	sec(2, 1, 4, 'e', 'v', 'i', 'l', 1, 'f', 0, 0)   // import evil.f: type 0
	sec(5, 1, 0, 1)                                  // memory min 1
	sec(7, 1, 6, 'm', 'e', 'm', 'o', 'r', 'y', 2, 0) // export memory
	return b.Bytes()
}
