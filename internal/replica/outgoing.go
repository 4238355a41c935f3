package replica

import (
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/onvm-network/onvm/internal/blob"
	"github.com/onvm-network/onvm/internal/chain"
	"github.com/onvm-network/onvm/internal/consensus"
	"github.com/onvm-network/onvm/internal/dag"
	"github.com/onvm-network/onvm/internal/dag/op"
	"github.com/onvm-network/onvm/internal/id"
	"github.com/onvm-network/onvm/internal/program"
)

// Outgoing turns this node's commits into the operations that tell the
// network of them and stages each in the DAG's outbox, in the batch of
// the commit it reports: the chain's Outbox (deploys, transitions), the
// job service's (terminal records), the blob store's (blobs made
// complete here) and the validator registration. An operation is then
// durable exactly when what it reports is, and the proposer carries it in
// the node's next vertex after any crash: nothing needs republishing.
// Outgoing holds no state of its own and needs neither the network nor
// the DAG, so it is built before the components that commit.
type Outgoing struct {
	box    *dag.Outbox
	self   id.Node
	staged *prometheus.CounterVec // kind, result
}

// NewOutgoing returns the stager of this node's operations into box.
// reg may be nil.
func NewOutgoing(box *dag.Outbox, self id.Node, reg prometheus.Registerer) *Outgoing {
	o := &Outgoing{box: box, self: self, staged: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "onvm_replica_ops_published_total",
		Help: "Local operations staged for the node's vertices, by kind and result (staged, refused).",
	}, []string{"kind", "result"})}
	if reg != nil {
		var are prometheus.AlreadyRegisteredError
		if err := reg.Register(o.staged); errors.As(err, &are) {
			o.staged = are.ExistingCollector.(*prometheus.CounterVec)
		}
	}
	return o
}

// StageDeploy stages the program_deployed operation of m, a manifest this
// node signed (chain.Outbox).
func (o *Outgoing) StageDeploy(b *pebble.Batch, m *program.Manifest) error {
	x, err := op.ProgramDeployed(m)
	return o.stage(b, x, err, "program_deployed")
}

// StageTransition stages the transition operation of t, finalized here
// (chain.Outbox). Its output does not travel: its hash is in the receipt.
func (o *Outgoing) StageTransition(b *pebble.Batch, t *chain.Transition) error {
	x, err := toOp(t).Op()
	return o.stage(b, x, err, "transition")
}

// StageJobRecord stages the job_record operation of rec, the signed
// terminal record of a job this node ran (job.Outbox).
func (o *Outgoing) StageJobRecord(b *pebble.Batch, rec *op.JobRecord) error {
	x, err := rec.Op()
	return o.stage(b, x, err, "job_record")
}

// StageBlob stages the blob_published operation of a blob made complete
// here, stored by a client or fetched from a peer: this node holds and
// serves it from now on (blob.Options.OnComplete).
func (o *Outgoing) StageBlob(b *pebble.Batch, info blob.Info) error {
	x, err := op.BlobPublished{Blob: info.ID, Size: info.Size, Mime: info.MIME, Publisher: o.self}.Op()
	return o.stage(b, x, err, "blob_published")
}

// StageValidator stages this node's validator registration.
func (o *Outgoing) StageValidator(b *pebble.Batch, v consensus.Validator) error {
	x, err := op.ValidatorRegistered(v)
	return o.stage(b, x, err, "validator_registered")
}

func (o *Outgoing) stage(b *pebble.Batch, x dag.Op, err error, kind string) error {
	if err == nil {
		err = o.box.Stage(b, x)
	}
	if err != nil {
		o.staged.WithLabelValues(kind, "refused").Inc()
		return fmt.Errorf("publish %s: %w", kind, err)
	}
	o.staged.WithLabelValues(kind, "staged").Inc()
	return nil
}
