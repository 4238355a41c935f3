package replica

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/onvm-network/onvm/internal/id"
)

// metrics are the replica's Prometheus counters.
type metrics struct {
	published   *prometheus.CounterVec // kind, result
	manifests   *prometheus.CounterVec // result
	transitions *prometheus.CounterVec // result
	fetches     *prometheus.CounterVec // mode, result
	forwarded   *prometheus.CounterVec // direction, result
	jobs        *prometheus.CounterVec // result
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		published: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "onvm_replica_ops_published_total",
			Help: "Local operations handed to the DAG's proposer, by kind and result (queued, refused).",
		}, []string{"kind", "result"}),
		manifests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "onvm_replica_manifests_total",
			Help: "Replicated manifests, by result: stored, code_mismatch, instrumented_mismatch, too_large, conflict.",
		}, []string{"result"}),
		transitions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "onvm_replica_transitions_total",
			Help: "Replicated transitions, by result: applied, buffered, duplicate, waiting (for the manifest), invalid, conflict, too_far_ahead.",
		}, []string{"result"}),
		fetches: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "onvm_replica_blob_fetches_total",
			Help: "Blob fetches from peers, by mode (background, on_demand, code) and result (ok, failed, limited, no_providers, unreachable).",
		}, []string{"mode", "result"}),
		forwarded: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "onvm_replica_forwarded_executions_total",
			Help: "Executions forwarded to a committee leader (direction out) or served for a peer (in), by result.",
		}, []string{"direction", "result"}),
		jobs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "onvm_replica_job_records_total",
			Help: "Replicated terminal job records, by result: imported, known, waiting (no job service yet).",
		}, []string{"result"}),
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.published, m.manifests, m.transitions, m.fetches, m.forwarded, m.jobs} {
			_ = reg.Register(c) // a second replica in one registry keeps the first's
		}
	}
	return m
}

// waitingSets are the replica's durable sets of operations kept until
// something arrives, named by what they wait for.
var waitingSets = []struct{ what, prefix string }{
	{"code", pfxManifest},    // manifests awaiting their program's code
	{"manifest", pfxWaiting}, // transitions awaiting a manifest with its code
	{"job_service", pfxJob},  // job records awaiting the job service
}

// waitCount is one waiting set's size and the program of its first entry
// (the zero id for job records).
type waitCount struct {
	what    string
	n       int
	program id.Program
}

// waiting counts the entries of every waiting set, and the chain's
// transitions buffered ahead of their program's head. The sets are small
// by construction (transitions.go and chain.Options.MaxAhead bound what an
// author can make a node keep), so counting is a short key scan.
func (r *Replica) waiting() []waitCount {
	out := make([]waitCount, 0, len(waitingSets))
	for _, ws := range waitingSets {
		c := waitCount{what: ws.what}
		_ = scan(r.db, []byte(ws.prefix), func(k, _ []byte) (bool, error) {
			if c.n == 0 && ws.prefix != pfxJob && len(k) >= len(ws.prefix)+id.Size {
				c.program = id.Program(k[len(ws.prefix) : len(ws.prefix)+id.Size])
			}
			c.n++
			return true, nil
		})
		out = append(out, c)
	}
	if n, p, _, err := r.chain.Buffered(); err == nil {
		out = append(out, waitCount{what: "predecessor", n: n, program: p}) // transitions ahead of the head
	}
	return out
}

// logWaiting writes one line naming what the waiting sets wait for, when
// any is not empty; the sweep calls it, so at most once per sweep.
func (r *Replica) logWaiting() {
	attrs := []any{}
	var example id.Program
	for _, c := range r.waiting() {
		if c.n == 0 {
			continue
		}
		attrs = append(attrs, "awaiting_"+c.what, c.n)
		if example == (id.Program{}) {
			example = c.program
		}
	}
	if len(attrs) == 0 {
		return
	}
	if example != (id.Program{}) {
		attrs = append(attrs, "program", example.String())
	}
	r.log.Info("replicated operations wait", attrs...)
}

var (
	descWaiting = prometheus.NewDesc("onvm_replica_waiting",
		"Replicated operations kept until what they wait for arrives, by what: code (manifests), manifest (transitions), predecessor (transitions ahead of their program's head), job_service (job records).",
		[]string{"what"}, nil)
	descQueue = prometheus.NewDesc("onvm_replica_queue_length",
		"Work queued for the replica's background workers, by queue: blob_fetch (full sync mode), code_verify, provide.",
		[]string{"queue"}, nil)
)

// gauges collects the replica's waiting sets and queues at each scrape.
type gauges struct{ r *Replica }

func (g gauges) Describe(ch chan<- *prometheus.Desc) {
	ch <- descWaiting
	ch <- descQueue
}

func (g gauges) Collect(ch chan<- prometheus.Metric) {
	for _, c := range g.r.waiting() {
		ch <- prometheus.MustNewConstMetric(descWaiting, prometheus.GaugeValue, float64(c.n), c.what)
	}
	for name, n := range map[string]int{"blob_fetch": g.r.fetches.bg.len(), "code_verify": g.r.verify.len(), "provide": g.r.provides.len()} {
		ch <- prometheus.MustNewConstMetric(descQueue, prometheus.GaugeValue, float64(n), name)
	}
}
