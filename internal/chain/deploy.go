package chain

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble/v2"

	"github.com/onvm-network/onvm/internal/id"
	"github.com/onvm-network/onvm/internal/program"
	"github.com/onvm-network/onvm/internal/state"
	"github.com/onvm-network/onvm/internal/wasm"
)

// SaltSize is the size of the random salt chosen when a deploy names none.
const SaltSize = 32

// WasmMIME is the media type deployed modules are stored with.
const WasmMIME = "application/wasm"

// DeployRequest asks for a program to be deployed. Exactly one of Code and
// CodeBlob gives the module.
type DeployRequest struct {
	Code       []byte   // the module
	CodeBlob   *id.Blob // or a blob already stored on this node
	Entrypoint string
	BlobRefs   []id.Blob
	Salt       []byte // nil: SaltSize random bytes
}

// Deploy validates, instruments and stores a module and records its signed
// manifest. The program id is BLAKE3(module ‖ salt): deploying the same
// module with the same salt again returns the stored manifest with created
// false and changes nothing. An invalid module is a *wasm.Error of kind
// KindInvalidModule naming the problem.
func (e *Engine) Deploy(ctx context.Context, req DeployRequest) (m *program.Manifest, created bool, err error) {
	if e.closed.Load() {
		return nil, false, ErrClosed
	}
	code, err := e.deployCode(ctx, req)
	if err != nil {
		return nil, false, err
	}
	switch {
	case req.Entrypoint == "":
		return nil, false, fmt.Errorf("deploy: %w: entrypoint is required", ErrInvalidRequest)
	case len(req.Entrypoint) > program.MaxEntrypointName:
		return nil, false, fmt.Errorf("deploy: %w: entrypoint name longer than %d bytes", ErrInvalidRequest, program.MaxEntrypointName)
	case len(req.Salt) > program.MaxSaltSize:
		return nil, false, fmt.Errorf("deploy: %w: salt of %d bytes (at most %d)", ErrInvalidRequest, len(req.Salt), program.MaxSaltSize)
	case len(req.BlobRefs) > program.MaxBlobRefs:
		return nil, false, fmt.Errorf("deploy: %w: %d blob refs (at most %d)", ErrInvalidRequest, len(req.BlobRefs), program.MaxBlobRefs)
	}
	salt := req.Salt
	if salt == nil {
		salt = make([]byte, SaltSize)
		if _, err := rand.Read(salt); err != nil {
			return nil, false, fmt.Errorf("deploy: salt: %w", err)
		}
	}
	p := id.ProgramOf(code, salt)
	if old, err := e.catalog.Get(p); err == nil {
		return old, false, nil
	} else if !isNotFound(err) {
		return nil, false, fmt.Errorf("deploy %s: %w", p, err)
	}

	inst, err := wasm.PrepareEntry(ctx, code, req.Entrypoint)
	if err != nil {
		return nil, false, fmt.Errorf("deploy %s: %w", p, err)
	}
	codeInfo, _, err := e.blobs.Put(ctx, bytes.NewReader(code), WasmMIME)
	if err != nil {
		return nil, false, fmt.Errorf("deploy %s: store code: %w", p, err)
	}
	instInfo, _, err := e.blobs.Put(ctx, bytes.NewReader(inst), WasmMIME)
	if err != nil {
		return nil, false, fmt.Errorf("deploy %s: store instrumented code: %w", p, err)
	}
	committee, err := e.selectCommittee(p)
	if err != nil {
		return nil, false, fmt.Errorf("deploy %s: %w", p, err)
	}
	refs := req.BlobRefs
	if refs == nil {
		refs = []id.Blob{}
	}
	signed, err := program.Sign(program.Body{
		Program:      p,
		Version:      program.ManifestVersion,
		Deployer:     e.node,
		Entrypoints:  []string{req.Entrypoint},
		EnvHash:      wasm.EnvHash(),
		CodeBlob:     codeInfo.ID,
		CodeSize:     int64(len(code)),
		Instrumented: instInfo.ID,
		Salt:         salt,
		BlobRefs:     refs,
		InitialRoot:  state.EmptyRoot,
		Committee:    committee,
		Timestamp:    e.opts.Now().UnixMilli(),
	}, e.keys.Ed25519)
	if err != nil {
		return nil, false, fmt.Errorf("deploy %s: %w", p, err)
	}
	// The manifest's operation is staged with the catalog entry: a deploy
	// acknowledged is a deploy the network will hear of, crash or not.
	stored, created, err := e.catalog.PutWith(ctx, signed, func(b *pebble.Batch) error {
		return e.opts.Outbox.StageDeploy(b, signed)
	})
	if errors.Is(err, program.ErrConflict) {
		return stored, false, nil // a concurrent deploy of the same id won
	}
	if err != nil {
		return nil, false, fmt.Errorf("deploy %s: %w", p, err)
	}
	e.code.add(instInfo.ID, inst)
	e.compile(ctx, stored, inst)
	e.log.Info("program deployed", "program", p.String(), "bytes", len(code))
	return stored, created, nil
}

// deployCode returns the module of req.
func (e *Engine) deployCode(ctx context.Context, req DeployRequest) ([]byte, error) {
	switch {
	case req.CodeBlob != nil && req.Code != nil:
		return nil, fmt.Errorf("deploy: %w: give the module or a code blob, not both", ErrInvalidRequest)
	case req.CodeBlob != nil:
		code, err := readBlob(ctx, e.blobs, *req.CodeBlob, wasm.MaxCodeSize)
		if err != nil {
			return nil, fmt.Errorf("deploy from %s: %w", *req.CodeBlob, err)
		}
		return code, nil
	case len(req.Code) == 0:
		return nil, fmt.Errorf("deploy: %w: the module is empty", ErrInvalidRequest)
	}
	return req.Code, nil
}

// compile compiles the instrumented module here before the deploy
// answers, so that executions do not wait for it: the runtime bounds the
// compilations at once and how long this waits (wasm.Config.CompileWait);
// past that, or when the deployer gives up, the compilation goes on and
// executions answer 503 compiling until it ends. The module passed
// Prepare, so a failure here is the engine's, logged, not the deployer's.
func (e *Engine) compile(ctx context.Context, m *program.Manifest, inst []byte) {
	err := e.rt.Compile(ctx, m.Body.Instrumented.Hash(), inst)
	switch k := wasm.KindOf(err); {
	case err == nil:
	case k == wasm.KindCompiling || k == wasm.KindCancelled || k == wasm.KindTimeout:
		e.log.Info("program still compiling after its deploy", "program", m.Body.Program.String(), "err", err)
	default:
		e.log.Error("deployed program does not compile", "program", m.Body.Program.String(), "err", err)
	}
}

// Warm compiles a replicated program's instrumented module in the
// background when this node sits on its committee, so that the first
// execution forwarded to it does not wait for the compilation (or answer
// 503 compiling). Other nodes never run the program and compile nothing.
func (e *Engine) Warm(m *program.Manifest, inst []byte) {
	if e.closed.Load() || m.Body.EnvHash != wasm.EnvHash() || m.Body.Committee.Index(e.node) < 0 {
		return
	}
	e.code.add(m.Body.Instrumented, inst)
	e.wg.Go(func() { e.compile(e.ctx, m, inst) })
}

// Compiled reports whether p's module is compiled here.
func (e *Engine) Compiled(p id.Program) bool {
	m, err := e.catalog.Get(p)
	if err != nil {
		return false
	}
	return e.rt.Compiled(m.Body.Instrumented.Hash())
}
