// Package job is ONVM's durable, asynchronous job system: idempotent
// submission (JobId = BLAKE3(program ‖ request id)), a persistent queue in
// the node's database ordered by next-run time, a bounded worker pool,
// retries with exponential backoff and jitter for transient failures only,
// wall-clock timeouts and cancellation that stop the running guest, TTL
// expiry, bounded logs and outputs, persisted totals for /health/metrics,
// and signed terminal records for replication.
//
// The package is a pure core and a shell around it. The core (machine.go,
// backoff.go, classify.go) decides every state change of a job from its
// record and an event, with no I/O and no clock. The shell (Service) owns
// the "j/" keys of the node's pebble database, runs executions through
// chain.Engine.Execute with the job's request id — so a job's state effects
// apply at most once whatever crashes and retries happen — and makes a
// job's completed record part of the same batch as its transition
// (chain.Request.PreCommit): a job cancelled before that batch commits
// never commits state and never reports completed.
//
// The package must not speak HTTP, talk to peers or know the DAG: terminal
// records leave through the Outbox, staged in their commit batch; records
// from peers come in through Import, which accepts only verified terminal
// records and never executes them.
package job
