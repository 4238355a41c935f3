package replica

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/onvm-network/onvm/internal/blob"
	"github.com/onvm-network/onvm/internal/chain"
	"github.com/onvm-network/onvm/internal/dag"
	"github.com/onvm-network/onvm/internal/dag/op"
	"github.com/onvm-network/onvm/internal/id"
	"github.com/onvm-network/onvm/internal/p2p"
	"github.com/onvm-network/onvm/internal/program"
	"github.com/onvm-network/onvm/internal/wasm"
)

// codeFetchTimeout bounds fetching one program's code.
const codeFetchTimeout = 10 * time.Minute

// forgedPenalty is charged to a deployer whose manifest names code that
// does not bind to its program id.
const forgedPenalty = 50

// programHandler applies program_deployed. The deployer's signature was
// checked before acceptance; the binding of the program id to the code
// needs the code, which may be megabytes away, so Apply records the
// manifest as awaiting its code and the verifier installs it in the
// catalog once the code is fetched and verified (or refuses it, on every
// node alike, since the verdict depends only on the code). Check accepts:
// holding a vertex back until code arrives would stall every descendant
// on a deployer that never serves it.
type programHandler struct{ r *Replica }

func (h programHandler) Apply(_ context.Context, o dag.Op, v *dag.Vertex) error {
	r := h.r
	m, err := op.DecodeProgramDeployed(o)
	if err != nil {
		return fmt.Errorf("%w: %w", dag.ErrInvalidOp, err) // validated before acceptance: cannot happen
	}
	p, mid := m.Body.Program, m.ID()
	if err := r.db.Set(programKey(pfxSeen, p, mid[:]), o.Body, pebble.NoSync); err != nil {
		return fmt.Errorf("store manifest %s: %w", p, err)
	}
	if v.Author == r.self {
		// This node's deploy, now in its own vertex: offer the program
		// and its code in the DHT.
		r.provide(id.Hash(p), true)
		r.provide(id.Hash(m.Body.CodeBlob), false)
		r.provide(id.Hash(m.Body.Instrumented), false)
		return nil
	}
	if r.net != nil {
		r.net.Providers().AddNode(id.Hash(m.Body.CodeBlob), m.Body.Deployer)
		r.net.Providers().AddNode(id.Hash(m.Body.Instrumented), m.Body.Deployer)
	}
	if cur, err := r.chain.Catalog().Get(p); err == nil {
		if cur.ID() != mid {
			r.conflict(cur, m)
		}
		return nil
	} else if !errors.Is(err, program.ErrNotFound) {
		return err
	}
	if _, refused, err := get(r.db, key(pfxRefused, mid[:])); err != nil || refused {
		return err
	}
	if err := r.db.Set(programKey(pfxManifest, p, mid[:]), o.Body, pebble.NoSync); err != nil {
		return fmt.Errorf("store manifest %s: %w", p, err)
	}
	r.verify.add(p)
	return nil
}

// conflict records a second valid manifest for a program id the catalog
// already holds. Program ids bind code and salt, not the deployer, so two
// nodes deploying the same module with the same salt at once both sign a
// manifest; the first one a node stored stays (see docs/rationale/network.md).
func (r *Replica) conflict(have, got *program.Manifest) {
	r.m.manifests.WithLabelValues("conflict").Inc()
	r.log.Warn("conflicting manifest ignored", "program", have.Body.Program.String(),
		"kept", have.ID().String(), "ignored", got.ID().String())
}

// pendingManifest reports whether a manifest of p awaits its code.
func (r *Replica) pendingManifest(p id.Program) bool {
	found := false
	_ = scan(r.db, programKey(pfxManifest, p), func(_, _ []byte) (bool, error) {
		found = true
		return false, nil
	})
	return found
}

// verifyLoop verifies and installs manifests awaiting their code.
func (r *Replica) verifyLoop() {
	for {
		p, ok := r.verify.take()
		if !ok {
			select {
			case <-r.ctx.Done():
				return
			case <-r.verify.ready:
				continue
			}
		}
		if err := r.verifyProgram(p); err != nil && r.ctx.Err() == nil {
			r.log.Info("manifest awaits its code", "program", p.String(), "err", err)
		}
	}
}

// sweepManifests queues every program with a manifest awaiting code.
func (r *Replica) sweepManifests() error {
	return scan(r.db, []byte(pfxManifest), func(k, _ []byte) (bool, error) {
		r.verify.add(id.Program(k[len(pfxManifest) : len(pfxManifest)+id.Size]))
		return r.ctx.Err() == nil, nil
	})
}

// verifyProgram tries every manifest of p awaiting code.
func (r *Replica) verifyProgram(p id.Program) error {
	var encs [][]byte
	if err := scan(r.db, programKey(pfxManifest, p), func(_, v []byte) (bool, error) {
		encs = append(encs, v)
		return true, nil
	}); err != nil {
		return err
	}
	var errs []error
	for _, enc := range encs {
		m, err := program.Decode(enc)
		if err != nil {
			errs = append(errs, err) // cannot happen: it was validated
			continue
		}
		errs = append(errs, r.verifyManifest(m))
	}
	return errors.Join(errs...)
}

// refusal is a manifest that does not verify against its code.
type refusal struct{ reason string }

func (e *refusal) Error() string { return e.reason }

// verifyManifest fetches m's code, checks that it binds to the program id
// and that it instruments to the module the manifest names, stores the
// instrumented module, and installs m in the catalog. A manifest that does
// not verify is refused for good.
func (r *Replica) verifyManifest(m *program.Manifest) error {
	p, mid := m.Body.Program, m.ID()
	ctx, cancel := context.WithTimeout(r.ctx, codeFetchTimeout)
	defer cancel()
	code, err := r.code(ctx, m)
	var ref *refusal
	if errors.As(err, &ref) {
		return r.refuse(m, ref.reason, err)
	}
	if err != nil {
		return fmt.Errorf("verify manifest %s of %s: %w", mid, p, err)
	}
	if err := m.VerifyCode(code); err != nil {
		return r.refuse(m, "code_mismatch", err)
	}
	var inst []byte
	if m.Body.EnvHash == wasm.EnvHash() {
		inst, err = wasm.PrepareEntry(ctx, code, m.Body.Entrypoints[0])
		if err != nil {
			return r.refuse(m, "invalid_code", err)
		}
		if id.BlobOf(inst) != m.Body.Instrumented {
			return r.refuse(m, "instrumented_mismatch", fmt.Errorf("instrumented module is not %s", m.Body.Instrumented))
		}
		if _, _, err := r.blobs.Put(ctx, bytes.NewReader(inst), chain.WasmMIME); err != nil {
			return fmt.Errorf("verify manifest %s of %s: store instrumented code: %w", mid, p, err)
		}
	}
	// Another runtime environment: this node cannot run the program (its
	// executions fail with env_mismatch) but lists it and serves its code.
	if err := r.install(ctx, m); err != nil {
		return err
	}
	if inst != nil {
		r.chain.Warm(m, inst) // a member compiles before the first execution reaches it
	}
	return nil
}

// code returns m's module, fetched from the deployer or other providers
// when it is not stored here.
func (r *Replica) code(ctx context.Context, m *program.Manifest) ([]byte, error) {
	b := m.Body.CodeBlob
	if m.Body.CodeSize > wasm.MaxCodeSize {
		return nil, &refusal{"too_large"}
	}
	if info, err := r.blobs.Stat(ctx, b); err != nil || !info.Complete {
		if err := r.fetches.fetch(ctx, b, "code", m.Body.Deployer); err != nil {
			return nil, err
		}
	}
	rd, err := r.blobs.Open(ctx, b)
	if err != nil {
		return nil, err
	}
	defer func() { _ = rd.Close() }()
	if rd.Size() != m.Body.CodeSize {
		return nil, &refusal{"code_mismatch"}
	}
	code := make([]byte, rd.Size())
	if _, err := io.ReadFull(rd, code); err != nil {
		return nil, fmt.Errorf("read code %s: %w", b, err)
	}
	return code, nil
}

// refuse records that m does not verify, on every node alike.
func (r *Replica) refuse(m *program.Manifest, reason string, cause error) error {
	p, mid := m.Body.Program, m.ID()
	b := r.db.NewBatch()
	defer func() { _ = b.Close() }()
	if err := b.Set(key(pfxRefused, mid[:]), []byte(reason), nil); err != nil {
		return err
	}
	if err := b.Delete(programKey(pfxManifest, p, mid[:]), nil); err != nil {
		return err
	}
	if err := b.Commit(pebble.Sync); err != nil {
		return fmt.Errorf("refuse manifest %s: %w", mid, err)
	}
	r.m.manifests.WithLabelValues(reason).Inc()
	if err := r.dropOrphans(p); err != nil {
		return err
	}
	if r.net != nil {
		if pid, err := p2p.PeerOf(m.Body.Deployer); err == nil {
			r.net.Scores().Penalize(pid, forgedPenalty)
		}
	}
	r.log.Warn("manifest refused", "program", p.String(), "manifest", mid.String(), "reason", reason, "err", cause)
	return nil
}

// dropOrphans deletes the transitions of p waiting for a manifest when no
// manifest of p can arrive any more: none is awaiting its code and the
// catalog has none (the only one was refused). A forger's committee can
// sign as many transitions as it likes; they must not pile up here.
func (r *Replica) dropOrphans(p id.Program) error {
	r.progMu.Lock()
	defer r.progMu.Unlock()
	if r.pendingManifest(p) {
		return nil
	}
	if _, err := r.chain.Catalog().Get(p); !errors.Is(err, program.ErrNotFound) {
		return err
	}
	lo := programKey(pfxWaiting, p)
	return r.db.DeleteRange(lo, upper(lo), pebble.NoSync)
}

// install stores a verified manifest in the catalog and applies the
// transitions that waited for it.
func (r *Replica) install(ctx context.Context, m *program.Manifest) error {
	p, mid := m.Body.Program, m.ID()
	r.progMu.Lock()
	defer r.progMu.Unlock()
	stored, created, err := r.chain.Catalog().Put(ctx, m)
	switch {
	case errors.Is(err, program.ErrConflict):
		r.conflict(stored, m)
	case err != nil:
		return fmt.Errorf("install manifest %s of %s: %w", mid, p, err)
	case created:
		r.m.manifests.WithLabelValues("stored").Inc()
		r.log.Info("program replicated", "program", p.String(), "deployer", m.Body.Deployer.String())
		close(r.installed)
		r.installed = make(chan struct{})
	}
	if err := r.db.Delete(programKey(pfxManifest, p, mid[:]), pebble.NoSync); err != nil {
		return err
	}
	r.provide(id.Hash(p), true)
	r.provide(id.Hash(m.Body.CodeBlob), false)
	r.provide(id.Hash(m.Body.Instrumented), false)
	return r.drainWaiting(ctx, p)
}

// Programs is the program engine as the API and the job service see it:
// a deploy is published to the network, and an execution this node cannot
// finalize is forwarded to the program's committee leader.
type Programs struct {
	*chain.Engine
	r *Replica
}

// Programs returns the replicating view of the chain engine.
func (r *Replica) Programs() *Programs { return &Programs{Engine: r.chain, r: r} }

// Manifest returns p's manifest; ErrProgramPending while its code is being
// fetched and verified.
func (x *Programs) Manifest(p id.Program) (*program.Manifest, error) {
	m, err := x.Engine.Manifest(p)
	if err != nil && isNotFound(err) && x.r.pendingManifest(p) {
		return nil, fmt.Errorf("program %s: %w", p, ErrProgramPending)
	}
	return m, err
}

// DefaultMissWait bounds how long a request naming a program this node
// has never seen waits for it while the node asks its peers (askAround):
// a script that deploys on one node and executes on another at once then
// just works, and a genuinely unknown program is 404 after this long.
const DefaultMissWait = 2 * time.Second

// askAround starts a sync session with a few peers, unless one is under
// way: what a peer created a moment ago arrives without waiting for the
// next gossip or periodic sync. At most one runs at a time, so requests
// for unknown ids cannot multiply sync sessions.
func (r *Replica) askAround() {
	if r.net == nil || !r.asking.CompareAndSwap(false, true) {
		return
	}
	if !r.spawn(func() {
		defer r.asking.Store(false)
		peers := p2p.ONVMPeers(r.net.Host())
		for i, p := range peers {
			if i == 3 {
				break
			}
			ctx, cancel := context.WithTimeout(r.ctx, DefaultMissWait)
			if err := r.net.Syncer().SyncWith(ctx, p); err != nil && r.ctx.Err() == nil {
				r.log.Debug("sync on a miss", "peer", p.String(), "err", err)
			}
			cancel()
		}
	}) {
		r.asking.Store(false)
	}
}

// awaitProgram waits, at most DefaultPendingWait, until p's manifest is in
// the catalog when it is awaiting its code; it returns the manifest, or the
// catalog's error (ErrProgramPending if the wait ran out). When unseen > 0
// it also waits, at most that long, for a program this node has not seen
// at all (a forwarded request: the sender holds the manifest).
func (r *Replica) awaitProgram(ctx context.Context, p id.Program, unseen time.Duration) (*program.Manifest, error) {
	ctx, cancel := context.WithTimeout(ctx, DefaultPendingWait)
	defer cancel()
	var unseenDone <-chan time.Time
	if unseen > 0 {
		t := time.NewTimer(unseen)
		defer t.Stop()
		unseenDone = t.C
	}
	for {
		r.progMu.Lock()
		ch := r.installed
		r.progMu.Unlock()
		m, err := r.chain.Manifest(p)
		if err == nil || !isNotFound(err) {
			return m, err
		}
		pending := r.pendingManifest(p)
		if !pending && unseenDone == nil {
			return nil, err
		}
		if !pending {
			r.askAround()
		}
		if pending {
			r.verify.add(p)
		}
		select {
		case <-ch:
		case <-unseenDone:
			unseenDone = nil // from now on, only a manifest awaiting its code is waited for
		case <-ctx.Done():
			return nil, fmt.Errorf("program %s: %w", p, ErrProgramPending)
		}
	}
}

func isNotFound(err error) bool {
	return errors.Is(err, program.ErrNotFound) || errors.Is(err, chain.ErrNotFound) || errors.Is(err, blob.ErrNotFound)
}
