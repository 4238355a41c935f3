package dag

import (
	"errors"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// Reason classifies a rejected vertex, for counters and for the network
// layer's peer scoring.
type Reason string

// Rejection reasons.
const (
	ReasonTooLarge       Reason = "too_large"       // encoding over MaxVertexSize
	ReasonMalformed      Reason = "malformed"       // not the canonical encoding of a vertex
	ReasonShape          Reason = "shape"           // limits, parent list shape
	ReasonSignature      Reason = "signature"       // author signature does not verify
	ReasonUnknownKind    Reason = "unknown_kind"    // operation of an unregistered kind
	ReasonInvalidOp      Reason = "invalid_op"      // an operation's stateless validator refused it
	ReasonBadParents     Reason = "bad_parents"     // self parent wrong, or an other parent by the author
	ReasonParentRejected Reason = "parent_rejected" // descends from a rejected vertex
)

// Reasons lists every Reason, in a fixed order.
var Reasons = []Reason{
	ReasonTooLarge, ReasonMalformed, ReasonShape, ReasonSignature, ReasonUnknownKind,
	ReasonInvalidOp, ReasonBadParents, ReasonParentRejected,
}

// Stateful reports whether r is found only with the node's state (the
// parents). A relay that forwards a vertex after its
// stateless checks cannot see such faults; the vertex's author, who signed
// it, is to blame.
func (r Reason) Stateful() bool {
	return r == ReasonBadParents || r == ReasonParentRejected
}

// reasonOf maps a rejection error to its reason.
func reasonOf(err error) Reason {
	switch {
	case errors.Is(err, errTooLarge):
		return ReasonTooLarge
	case errors.Is(err, errMalformed):
		return ReasonMalformed
	case errors.Is(err, errBadSignature):
		return ReasonSignature
	case errors.Is(err, ErrUnknownKind):
		return ReasonUnknownKind
	case errors.Is(err, errBadParents):
		return ReasonBadParents
	case errors.Is(err, errParentRejected):
		return ReasonParentRejected
	case errors.Is(err, ErrInvalidOp):
		return ReasonInvalidOp
	default:
		return ReasonShape
	}
}

// Stats is a snapshot of the DAG's counters.
type Stats struct {
	Accepted       uint64            // vertices accepted
	Duplicates     uint64            // vertices received again
	Pending        int               // vertices waiting for parents now
	Unapplied      int               // accepted vertices whose operations are not all applied now
	PendingEvicted uint64            // vertices dropped from a full pending buffer
	AppliedOps     uint64            // operations applied since Open
	Equivocations  uint64            // (author, sequence) slots with two or more vertices, since Open
	Rejected       map[Reason]uint64 // rejected vertices by reason, since Open
	RefusedOps     map[string]uint64 // operations a handler refused, by kind name, since Open
}

type counters struct {
	accepted, duplicates, evicted, applied, equivocations atomic.Uint64
	rejected                                              [numReasons]atomic.Uint64

	refusedMu sync.Mutex
	refused   map[string]uint64 // kind name → operations refused by Apply
}

const numReasons = 8

var reasonIndex = map[Reason]int{
	ReasonTooLarge: 0, ReasonMalformed: 1, ReasonShape: 2, ReasonSignature: 3, ReasonUnknownKind: 4,
	ReasonInvalidOp: 5, ReasonBadParents: 6, ReasonParentRejected: 7,
}

func (c *counters) reject(r Reason) { c.rejected[reasonIndex[r]].Add(1) }

func (c *counters) refuse(kind string) {
	c.refusedMu.Lock()
	defer c.refusedMu.Unlock()
	if c.refused == nil {
		c.refused = make(map[string]uint64)
	}
	c.refused[kind]++
}

// Stats returns a snapshot of the counters.
func (d *DAG) Stats() Stats {
	s := Stats{
		Accepted:       d.stats.accepted.Load(),
		Duplicates:     d.stats.duplicates.Load(),
		PendingEvicted: d.stats.evicted.Load(),
		AppliedOps:     d.stats.applied.Load(),
		Equivocations:  d.stats.equivocations.Load(),
		Rejected:       make(map[Reason]uint64, len(Reasons)),
	}
	for _, r := range Reasons {
		s.Rejected[r] = d.stats.rejected[reasonIndex[r]].Load()
	}
	s.RefusedOps = make(map[string]uint64, len(d.kinds))
	for _, k := range d.kinds {
		if k.Handler != nil {
			s.RefusedOps[k.Name] = 0
		}
	}
	d.stats.refusedMu.Lock()
	for k, n := range d.stats.refused {
		s.RefusedOps[k] = n
	}
	d.stats.refusedMu.Unlock()
	d.pmu.Lock()
	s.Pending = d.pending.len()
	d.pmu.Unlock()
	_ = scan(d.db, pfxUnappl, upper(pfxUnappl), func(_, _ []byte) (bool, error) {
		s.Unapplied++
		return true, nil
	})
	return s
}

// Collector returns a Prometheus collector of the DAG's counters and
// gauges, for the node to register.
func (d *DAG) Collector() prometheus.Collector { return collector{d} }

var (
	descAccepted   = prometheus.NewDesc("onvm_dag_vertices_accepted_total", "Vertices accepted since start.", nil, nil)
	descDuplicates = prometheus.NewDesc("onvm_dag_vertices_duplicate_total", "Vertices received that were already known.", nil, nil)
	descRejected   = prometheus.NewDesc("onvm_dag_vertices_rejected_total", "Vertices rejected, by reason.", []string{"reason"}, nil)
	descPending    = prometheus.NewDesc("onvm_dag_vertices_pending", "Vertices waiting for their parents.", nil, nil)
	descUnapplied  = prometheus.NewDesc("onvm_dag_vertices_unapplied", "Accepted vertices whose operations are not all applied: a handler failed, and later vertices wait for them.", nil, nil)
	descEvicted    = prometheus.NewDesc("onvm_dag_vertices_pending_evicted_total", "Vertices dropped from a full pending buffer.", nil, nil)
	descApplied    = prometheus.NewDesc("onvm_dag_operations_applied_total", "Operations applied since start.", nil, nil)
	descRefused    = prometheus.NewDesc("onvm_dag_operations_refused_total", "Operations of accepted vertices their handler refused, by kind.", []string{"kind"}, nil)
	descEquivocate = prometheus.NewDesc("onvm_dag_equivocations_total", "Equivocations detected since start.", nil, nil)
	descHeads      = prometheus.NewDesc("onvm_dag_heads", "Current number of DAG tips.", nil, nil)
	descAuthors    = prometheus.NewDesc("onvm_dag_authors", "Authors in the version vector.", nil, nil)
)

type collector struct{ d *DAG }

func (c collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descAccepted, descDuplicates, descRejected, descPending, descUnapplied,
		descEvicted, descApplied, descRefused, descEquivocate, descHeads, descAuthors} {
		ch <- d
	}
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	s := c.d.Stats()
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	counter(descAccepted, s.Accepted)
	counter(descDuplicates, s.Duplicates)
	for _, r := range Reasons {
		counter(descRejected, s.Rejected[r], string(r))
	}
	counter(descEvicted, s.PendingEvicted)
	counter(descApplied, s.AppliedOps)
	for k, n := range s.RefusedOps {
		counter(descRefused, n, k)
	}
	counter(descEquivocate, s.Equivocations)
	ch <- prometheus.MustNewConstMetric(descPending, prometheus.GaugeValue, float64(s.Pending))
	ch <- prometheus.MustNewConstMetric(descUnapplied, prometheus.GaugeValue, float64(s.Unapplied))
	c.d.view.RLock()
	heads, authors := len(c.d.heads), len(c.d.vv)
	c.d.view.RUnlock()
	ch <- prometheus.MustNewConstMetric(descHeads, prometheus.GaugeValue, float64(heads))
	ch <- prometheus.MustNewConstMetric(descAuthors, prometheus.GaugeValue, float64(authors))
}
