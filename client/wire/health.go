package wire

// Liveness is the answer to GET /health/liveness.
type Liveness struct {
	Alive bool   `json:"alive"`
	Mode  string `json:"mode"` // "dev" or "prod"
	// NodeID is the id that signed requests to this node name in their
	// canonical string (docs/security.md); public, like the route.
	NodeID string `json:"node_id"`
}

// Readiness states (the original's strings).
const (
	ReadinessReady       = "Ready"
	ReadinessDegraded    = "Degraded"
	ReadinessUnavailable = "Unavailable"
)

// Readiness is the answer to GET /health/readiness (the original's shape).
type Readiness struct {
	Status    string    `json:"status"` // Ready, Degraded, Unavailable
	Timestamp int64     `json:"timestamp"`
	Capacity  Capacity  `json:"capacity"`
	Resources Resources `json:"resources"`
	Version   string    `json:"version"`
	// Reason says why a readiness check answers Unavailable: "draining"
	// (shutdown began) or "min_peers" (fewer peers than network.min_peers).
	Reason string `json:"reason,omitempty"`
}

// Capacity is what the node can take on.
type Capacity struct {
	MaxConcurrentJobs int    `json:"max_concurrent_jobs"`
	CurrentJobs       int    `json:"current_jobs"`
	QueueDepth        int    `json:"queue_depth"`
	CPUCores          int    `json:"cpu_cores"`
	TotalMemoryBytes  uint64 `json:"total_memory_bytes"`
}

// Resources is what the node uses now.
type Resources struct {
	CPUPercent      float64 `json:"cpu_percent"`
	MemoryUsedBytes uint64  `json:"memory_used_bytes"`
	MemoryPercent   float64 `json:"memory_percent"`
	ActiveJobs      int     `json:"active_jobs"`
}

// NodeMetrics is the answer to GET /health/metrics (the original's shape).
type NodeMetrics struct {
	UptimeSeconds          int64   `json:"uptime_seconds"`
	TotalJobsCompleted     uint64  `json:"total_jobs_completed"`
	TotalJobsFailed        uint64  `json:"total_jobs_failed"`
	TotalJobsCancelled     uint64  `json:"total_jobs_cancelled"`
	TotalFuelConsumed      uint64  `json:"total_fuel_consumed"`
	AverageExecutionTimeMS float64 `json:"average_execution_time_ms"`
}
