package replica

import "github.com/prometheus/client_golang/prometheus"

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
