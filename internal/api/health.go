package api

import (
	"net/http"
	"runtime"
	"sync"
	"time"

	"github.com/pbnjay/memory"
	"github.com/prometheus/procfs"

	"github.com/onvm-network/onvm/client/wire"
)

func (s *Server) healthRoutes(r *router) {
	r.handle(http.MethodGet, "/health", s.health)
	r.handle(http.MethodGet, "/health/liveness", s.liveness)
	r.handle(http.MethodGet, "/health/readiness", s.readiness)
	r.handle(http.MethodGet, "/health/metrics", s.nodeMetrics)
	r.handle(http.MethodGet, "/metrics", s.metrics.serve)
}

func (s *Server) health(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte("ok"))
}

func (s *Server) liveness(w http.ResponseWriter, r *http.Request) {
	mode := "prod"
	if s.opts.Dev {
		mode = "dev"
	}
	writeJSON(w, http.StatusOK, wire.Liveness{Alive: true, Mode: mode, NodeID: s.nodeID.String()})
}

// readiness reports Ready, or Unavailable with 503 once shutdown began.
func (s *Server) readiness(w http.ResponseWriter, r *http.Request) {
	res := s.opts.Resources()
	h := wire.Readiness{
		Status:    wire.ReadinessReady,
		Timestamp: s.opts.Now().UnixMilli(),
		Capacity: wire.Capacity{
			MaxConcurrentJobs: s.opts.Jobs.MaxConcurrent,
			CPUCores:          res.CPUCores,
			TotalMemoryBytes:  res.TotalMemory,
		},
		Resources: res.Resources,
		Version:   s.opts.Version,
	}
	if h.Capacity.MaxConcurrentJobs == 0 { // jobs.max_concurrent 0: one per core
		h.Capacity.MaxConcurrentJobs = res.CPUCores
	}
	if js := s.opts.JobService; js != nil {
		st := js.Stats()
		h.Capacity.MaxConcurrentJobs, h.Capacity.CurrentJobs, h.Capacity.QueueDepth = st.Workers, st.Running, st.Pending
		h.Resources.ActiveJobs = st.Running
		if st.Executing >= st.Workers {
			h.Status = wire.ReadinessDegraded // every guest slot busy (the original: running ≥ max)
		}
	}
	code := http.StatusOK
	switch {
	case s.draining.Load():
		h.Status, h.Reason = wire.ReadinessUnavailable, "draining"
		code = http.StatusServiceUnavailable
	case s.opts.Gate != nil && s.opts.Gate() != nil:
		// Below network.min_peers the node refuses executions and job
		// submissions: it is not ready for the traffic a balancer sends.
		h.Status, h.Reason = wire.ReadinessUnavailable, "min_peers"
		code = http.StatusServiceUnavailable
	}
	writeJSON(w, code, h)
}

// nodeMetrics reports the persisted job totals: failed counts failed,
// timed out and expired jobs; the average is over the last 1000 attempts.
func (s *Server) nodeMetrics(w http.ResponseWriter, r *http.Request) {
	m := wire.NodeMetrics{UptimeSeconds: int64(s.opts.Now().Sub(s.start) / time.Second)}
	if js := s.opts.JobService; js != nil {
		st := js.Stats()
		t := st.Totals
		m.TotalJobsCompleted, m.TotalJobsFailed, m.TotalJobsCancelled = t.Completed, t.Failed+t.TimedOut+t.Expired, t.Cancelled
		m.TotalFuelConsumed, m.AverageExecutionTimeMS = t.Fuel, st.AvgExecMS
	}
	writeJSON(w, http.StatusOK, m)
}

// Sample is one measurement of the process and the machine.
type Sample struct {
	Resources   wire.Resources
	CPUCores    int
	TotalMemory uint64
}

// sampler measures the process's CPU use between calls and its RSS.
type sampler struct {
	mu      sync.Mutex
	lastCPU float64
	lastAt  time.Time
	total   uint64
}

func newSampler() *sampler {
	s := &sampler{lastAt: time.Now(), total: memory.TotalMemory()}
	if p, err := procfs.Self(); err == nil {
		if st, err := p.Stat(); err == nil {
			s.lastCPU = st.CPUTime()
		}
	}
	return s
}

func (s *sampler) sample() Sample {
	var r wire.Resources
	out := func() Sample { return Sample{Resources: r, CPUCores: runtime.NumCPU(), TotalMemory: s.total} }
	p, err := procfs.Self()
	if err != nil {
		return out()
	}
	st, err := p.Stat()
	if err != nil {
		return out()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now, cpu := time.Now(), st.CPUTime()
	if wall := now.Sub(s.lastAt).Seconds(); wall > 0 {
		r.CPUPercent = (cpu - s.lastCPU) / wall * 100
	}
	s.lastCPU, s.lastAt = cpu, now
	r.MemoryUsedBytes = uint64(st.ResidentMemory())
	if s.total > 0 {
		r.MemoryPercent = float64(r.MemoryUsedBytes) / float64(s.total) * 100
	}
	return out()
}
