package dagtest

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"fmt"
	"sync"
	"testing"

	"github.com/onvm-network/onvm/internal/bls"
	"github.com/onvm-network/onvm/internal/consensus"
	"github.com/onvm-network/onvm/internal/dag"
	"github.com/onvm-network/onvm/internal/dag/op"
	"github.com/onvm-network/onvm/internal/id"
	"github.com/onvm-network/onvm/internal/program"
)

// Validator is a test validator: its node key, BLS key and registration.
type Validator struct {
	Key ed25519.PrivateKey
	BLS *bls.SecretKey
	consensus.Validator
}

// Validators returns n deterministic validators (node keys Key(100+i)).
func Validators(t testing.TB, n int) []Validator {
	t.Helper()
	out := make([]Validator, n)
	for i := range out {
		sk, err := bls.GenerateKey(bytes.NewReader(bytes.Repeat([]byte{byte(i + 11)}, 32)))
		if err != nil {
			t.Fatal(err)
		}
		key := Key(100 + i)
		out[i] = Validator{Key: key, BLS: sk, Validator: consensus.Validator{Node: Node(key), BLSKey: sk.PublicKey(), Proof: sk.Prove()}}
	}
	return out
}

// Manifest returns a manifest of a fresh program (code derived from salt)
// deployed by key, with a committee of vs.
func Manifest(t testing.TB, key ed25519.PrivateKey, vs []Validator, salt string) *program.Manifest {
	t.Helper()
	code := []byte("\x00asm\x01\x00\x00\x00 test code")
	p := id.ProgramOf(code, []byte(salt))
	regs := make([]consensus.Validator, len(vs))
	for i, v := range vs {
		regs[i] = v.Validator
	}
	c, err := consensus.SelectCommittee(p, regs, len(vs))
	if err != nil {
		t.Fatal(err)
	}
	m, err := program.Sign(program.Body{
		Program: p, Version: program.ManifestVersion, Deployer: Node(key), Entrypoints: []string{"onvm_main"},
		EnvHash: id.Sum([]byte("env")), CodeBlob: id.BlobOf(code), CodeSize: int64(len(code)),
		Instrumented: id.BlobOf([]byte("instrumented")), Salt: []byte(salt), InitialRoot: id.Hash{1},
		Committee: c, Timestamp: 1700000000000,
	}, key)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// Transition returns a transition of m's program at height h signed by
// every committee member among vs.
func Transition(t testing.TB, m *program.Manifest, vs []Validator, h uint64) op.Transition {
	t.Helper()
	c := m.Body.Committee
	r := consensus.Receipt{Program: m.Body.Program, Height: h, StateRootIn: id.Hash{byte(h)}, StateRootOut: id.Hash{byte(h + 1)},
		Executor: c.Leader(h, 0), Epoch: c.Epoch, Timestamp: 1700000000000 + int64(h)}
	b := consensus.Ballot{Program: r.Program, Epoch: c.Epoch, Height: h, Step: consensus.StepPrecommit, Value: consensus.BatchRoot([]id.Hash{r.ID()})}
	var votes []consensus.SignedBallot
	for _, v := range vs {
		if i := c.Index(v.Node); i >= 0 {
			votes = append(votes, consensus.SignBallot(v.BLS, uint32(i), b))
		}
	}
	q, err := consensus.Certify(&c, b, votes)
	if err != nil {
		t.Fatal(err)
	}
	return op.Transition{Receipt: consensus.CertifiedBatch([]consensus.Receipt{r}, q)[0], Writes: []op.Write{{Key: []byte("k"), Value: []byte(fmt.Sprint(h))}}}
}

// Catalog is a minimal node-like handler set for the ONVM kinds: it stores
// manifests and verifies each transition's certificate against its
// program's committee, refusing those that do not verify, and records
// everything applied.
type Catalog struct {
	*Recorder
	mu        sync.Mutex
	manifests map[id.Program]*program.Manifest
}

// NewCatalog returns an empty catalog.
func NewCatalog() *Catalog {
	return &Catalog{Recorder: NewRecorder(), manifests: map[id.Program]*program.Manifest{}}
}

// Registry returns op.Registry with every kind handled by c, plus KindTest.
func (c *Catalog) Registry() *dag.Registry {
	reg := op.Registry()
	for _, k := range []dag.Kind{op.KindBlobPublished, op.KindProgramDeployed, op.KindTransition, op.KindJobRecord, op.KindValidatorRegistered} {
		if err := reg.Handle(k, c); err != nil {
			panic(err)
		}
	}
	if err := reg.Define(KindTest, "test", nil); err != nil {
		panic(err)
	}
	if err := reg.Handle(KindTest, c); err != nil {
		panic(err)
	}
	return reg
}

// Apply implements dag.Handler.
func (c *Catalog) Apply(ctx context.Context, o dag.Op, v *dag.Vertex) error {
	if o.Kind == op.KindProgramDeployed {
		m, err := op.DecodeProgramDeployed(o)
		if err != nil {
			return err
		}
		c.mu.Lock()
		if c.manifests[m.Body.Program] == nil {
			c.manifests[m.Body.Program] = m
		}
		c.mu.Unlock()
	}
	if o.Kind == op.KindTransition {
		if err := c.verify(o); err != nil {
			return c.refuse(v, err)
		}
	}
	return c.Recorder.Apply(ctx, o, v)
}

// verify checks a transition against its program's committee.
func (c *Catalog) verify(o dag.Op) error {
	tr, err := op.DecodeTransition(o)
	if err != nil {
		return err
	}
	c.mu.Lock()
	m := c.manifests[tr.Receipt.Receipt.Program]
	c.mu.Unlock()
	if m == nil {
		return fmt.Errorf("transition of unknown program %s", tr.Receipt.Receipt.Program)
	}
	return tr.Receipt.Verify(&m.Body.Committee)
}
