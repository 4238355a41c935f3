package op_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/onvm-network/onvm/internal/codec"
	"github.com/onvm-network/onvm/internal/consensus"
	"github.com/onvm-network/onvm/internal/dag"
	"github.com/onvm-network/onvm/internal/dag/dagtest"
	"github.com/onvm-network/onvm/internal/dag/op"
	"github.com/onvm-network/onvm/internal/id"
)

func vertexOf(author int) *dag.Vertex {
	return &dag.Vertex{Author: dagtest.Node(dagtest.Key(author)), Seq: 1, Timestamp: 1}
}

func mustOp(t *testing.T) func(dag.Op, error) dag.Op {
	return func(o dag.Op, err error) dag.Op {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return o
	}
}

func jobRecord(t *testing.T) op.JobRecord {
	p := id.Program{7}
	j := op.JobRecord{Job: id.JobOf(p, "req-1"), Program: p, RequestID: "req-1", Status: op.JobSucceeded,
		Output: id.Blob{1}, Fuel: 42, CreatedAt: 1, StartedAt: 2, FinishedAt: 3, Executor: dagtest.Node(dagtest.Key(1))}
	if err := j.Sign(dagtest.Key(1)); err != nil {
		t.Fatal(err)
	}
	return j
}

// TestValidators runs every kind's stateless validator over good and bad
// operations, through the registry the node uses.
func TestValidators(t *testing.T) {
	reg := op.Registry()
	vs := dagtest.Validators(t, 3)
	m := dagtest.Manifest(t, dagtest.Key(1), vs, "s")
	badSig := *m
	badSig.Signature = bytes.Clone(m.Signature)
	badSig.Signature[0] ^= 1
	tr := dagtest.Transition(t, m, vs, 1)
	trBadWrite := tr
	trBadWrite.Writes = []op.Write{{Key: []byte("k"), Value: []byte("v"), Delete: true}}
	trEmptyKey := tr
	trEmptyKey.Writes = []op.Write{{Key: []byte{}, Value: []byte("v")}, {Key: []byte("k"), Delete: true}}
	trUnordered := tr
	trUnordered.Writes = []op.Write{{Key: []byte("b"), Value: []byte("v")}, {Key: []byte("a"), Value: []byte("v")}}
	job := jobRecord(t)
	jobForged := job
	jobForged.Fuel = 1
	jobWrongID := job
	jobWrongID.RequestID = "other"
	badPoP := vs[0].Validator
	badPoP.Proof = vs[1].Proof

	blobOp := func(pub int) dag.Op {
		return mustOp(t)(op.BlobPublished{Blob: id.Blob{1}, Size: 10, Mime: "text/plain", Publisher: dagtest.Node(dagtest.Key(pub))}.Op())
	}
	tests := []struct {
		name   string
		op     dag.Op
		author int
		ok     bool
	}{
		{"blob by its publisher", blobOp(1), 1, true},
		{"blob on someone else's behalf", blobOp(2), 1, false},
		{"manifest by its deployer", mustOp(t)(op.ProgramDeployed(m)), 1, true},
		{"manifest on someone else's behalf", mustOp(t)(op.ProgramDeployed(m)), 5, false},
		{"manifest with a bad signature", dag.Op{Kind: op.KindProgramDeployed, Body: badSig.Encode()}, 1, false},
		{"transition", mustOp(t)(tr.Op()), 5, true},
		{"transition deleting with a value", dag.Op{Kind: op.KindTransition, Body: codec.MustMarshal(&trBadWrite)}, 5, false},
		{"transition writing the empty key", dag.Op{Kind: op.KindTransition, Body: codec.MustMarshal(&trEmptyKey)}, 5, true},
		{"transition with unordered writes", dag.Op{Kind: op.KindTransition, Body: codec.MustMarshal(&trUnordered)}, 5, false},
		{"job record", mustOp(t)(job.Op()), 5, true},
		{"job record altered after signing", mustOp(t)(jobForged.Op()), 5, false},
		{"job record with a wrong job id", mustOp(t)(jobWrongID.Op()), 5, false},
		{"validator registering itself", mustOp(t)(op.ValidatorRegistered(vs[0].Validator)), 100, true},
		{"validator registering another node", mustOp(t)(op.ValidatorRegistered(vs[0].Validator)), 101, false},
		{"validator with a bad proof of possession", mustOp(t)(op.ValidatorRegistered(badPoP)), 100, false},
		{"body of another kind", dag.Op{Kind: op.KindJobRecord, Body: blobOp(1).Body}, 1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, ok := reg.Spec(tt.op.Kind)
			if !ok {
				t.Fatalf("kind %d not registered", tt.op.Kind)
			}
			err := s.Validate(tt.op, vertexOf(tt.author))
			if tt.ok && err != nil {
				t.Fatalf("rejected: %v", err)
			}
			if !tt.ok && !errors.Is(err, op.ErrInvalid) {
				t.Fatalf("Validate = %v, want ErrInvalid", err)
			}
		})
	}
	// The aggregate signature is checked statefully, against the committee.
	trBadAgg := tr
	trBadAgg.Receipt.Certificate.Signature = dagtest.Transition(t, m, vs, 2).Receipt.Certificate.Signature
	if err := trBadAgg.Receipt.Verify(&m.Body.Committee); !errors.Is(err, consensus.ErrInvalidReceipt) {
		t.Fatalf("bad aggregate verifies: %v", err)
	}
}

func TestRoundTrips(t *testing.T) {
	vs := dagtest.Validators(t, 2)
	m := dagtest.Manifest(t, dagtest.Key(1), vs, "x")
	got, err := op.DecodeProgramDeployed(mustOp(t)(op.ProgramDeployed(m)))
	if err != nil || got.ID() != m.ID() {
		t.Fatalf("manifest: %v", err)
	}
	tr := dagtest.Transition(t, m, vs, 3)
	gt, err := op.DecodeTransition(mustOp(t)(tr.Op()))
	if err != nil || gt.Receipt.Receipt.ID() != tr.Receipt.Receipt.ID() || len(gt.Writes) != 1 {
		t.Fatalf("transition: %v", err)
	}
	j := jobRecord(t)
	gj, err := op.DecodeJobRecord(mustOp(t)(j.Op()))
	if err != nil || gj.Job != j.Job {
		t.Fatalf("job: %v", err)
	}
}

// FuzzDecode feeds arbitrary bodies to every kind's decoder: no panic, and
// an accepted body is canonical.
func FuzzDecode(f *testing.F) {
	f.Add(uint8(1), codec.MustMarshal(&op.BlobPublished{Blob: id.Blob{1}, Size: 3}))
	f.Add(uint8(4), []byte{0xa0})
	f.Add(uint8(3), []byte{0xa2, 0x01, 0xa0, 0x02, 0x80})
	f.Fuzz(func(t *testing.T, k uint8, body []byte) {
		o := dag.Op{Kind: dag.Kind(k%5 + 1), Body: body}
		var out any
		var err error
		switch o.Kind {
		case op.KindBlobPublished:
			out, err = op.DecodeBlobPublished(o)
		case op.KindProgramDeployed:
			out, err = op.DecodeProgramDeployed(o)
		case op.KindTransition:
			out, err = op.DecodeTransition(o)
		case op.KindJobRecord:
			out, err = op.DecodeJobRecord(o)
		case op.KindValidatorRegistered:
			out, err = op.DecodeValidatorRegistered(o)
		}
		if err != nil {
			return
		}
		if !bytes.Equal(codec.MustMarshal(out), body) {
			t.Fatalf("kind %d accepted a non-canonical body", o.Kind)
		}
	})
}
