package job

import (
	"errors"
	"fmt"
	"sync"

	"github.com/cockroachdb/pebble/v2"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/onvm-network/onvm/internal/codec"
)

// Totals count jobs that ended here, by how, and the fuel they consumed.
// They are persisted: each terminal record commits in the same batch as
// its lane's new totals (see lane), so they survive crashes exactly.
type Totals struct {
	Completed uint64 `cbor:"1,keyasint,omitempty"`
	Failed    uint64 `cbor:"2,keyasint,omitempty"`
	TimedOut  uint64 `cbor:"3,keyasint,omitempty"`
	Cancelled uint64 `cbor:"4,keyasint,omitempty"`
	Expired   uint64 `cbor:"5,keyasint,omitempty"`
	Fuel      uint64 `cbor:"6,keyasint,omitempty"`
}

func (t *Totals) add(o Totals) {
	t.Completed += o.Completed
	t.Failed += o.Failed
	t.TimedOut += o.TimedOut
	t.Cancelled += o.Cancelled
	t.Expired += o.Expired
	t.Fuel += o.Fuel
}

// with returns t counting terminal job j.
func (t Totals) with(j *Job) Totals {
	switch j.Status {
	case Completed:
		t.Completed++
	case Failed:
		t.Failed++
	case TimedOut:
		t.TimedOut++
	case Cancelled:
		t.Cancelled++
	case Expired:
		t.Expired++
	}
	t.Fuel += j.FuelConsumed
	return t
}

// lane is one persisted share of the totals, j/m/<name>. Every terminal
// transition stages its lane's new totals in its own batch; within a lane
// batches commit in the order they were staged (a worker runs one job at a
// time; shared lanes hold commitMu from staging to commit), so the stored
// value is always the latest. Separate lanes keep concurrent workers'
// commits independent (group commit) instead of serialising them on one
// counter key.
type lane struct {
	key      []byte
	commitMu sync.Mutex // held across stage+commit by lanes used from several goroutines
	mu       sync.Mutex
	t        Totals
}

// stage writes into b the lane's totals counting terminal job j, and
// counts it at once — whoever sees the record once b commits must see it
// counted; undo reverts the count if b does not commit.
func (l *lane) stage(b *pebble.Batch, j *Job) (undo func(), err error) {
	l.mu.Lock()
	prev := l.t
	next := prev.with(j)
	l.t = next
	l.mu.Unlock()
	undo = func() {
		l.mu.Lock()
		l.t = prev
		l.mu.Unlock()
	}
	enc, err := codec.Marshal(&next)
	if err == nil {
		err = b.Set(l.key, enc, nil)
	}
	if err != nil {
		undo()
		return nil, err
	}
	return undo, nil
}

func (l *lane) get() Totals {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.t
}

// loadLane reads a lane's stored totals.
func loadLane(db *pebble.DB, name string) (*lane, error) {
	l := &lane{key: []byte(nsMetrics + name)}
	v, closer, err := db.Get(l.key)
	if errors.Is(err, pebble.ErrNotFound) {
		return l, nil
	}
	if err != nil {
		return nil, err
	}
	defer closer.Close()
	if err := codec.Unmarshal(v, &l.t); err != nil {
		return nil, fmt.Errorf("job totals %s: %w: %v", name, ErrCorrupt, err)
	}
	return l, nil
}

// durations keeps the last 1000 execution times for
// average_execution_time_ms (the original's window). It is persisted every
// 256 additions and at Close, not with every job: after a crash the
// average may miss the latest few hundred jobs, never a total.
type durations struct {
	mu    sync.Mutex
	State durationState
	dirty int
}

type durationState struct {
	MS   []int64 `cbor:"1,keyasint"`
	Next int     `cbor:"2,keyasint"`
}

const (
	durationWindow = 1000
	durationFlush  = 256
	durationsKey   = nsMetrics + "durations"
)

// add records d and returns the encoding to persist when it is time to.
func (d *durations) add(ms int64) []byte {
	d.mu.Lock()
	defer d.mu.Unlock()
	st := &d.State
	if len(st.MS) < durationWindow {
		st.MS = append(st.MS, ms)
	} else {
		st.MS[st.Next] = ms
		st.Next = (st.Next + 1) % durationWindow
	}
	if d.dirty++; d.dirty < durationFlush {
		return nil
	}
	d.dirty = 0
	return codec.MustMarshal(&d.State)
}

func (d *durations) encode() []byte {
	d.mu.Lock()
	defer d.mu.Unlock()
	return codec.MustMarshal(&d.State)
}

func (d *durations) average() float64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.State.MS) == 0 {
		return 0
	}
	var sum int64
	for _, v := range d.State.MS {
		sum += v
	}
	return float64(sum) / float64(len(d.State.MS))
}

func (d *durations) load(db *pebble.DB) error {
	v, closer, err := db.Get([]byte(durationsKey))
	if errors.Is(err, pebble.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	defer closer.Close()
	var st durationState
	if err := codec.Unmarshal(v, &st); err != nil || len(st.MS) > durationWindow || st.Next < 0 || st.Next >= max(len(st.MS), 1) {
		return fmt.Errorf("job durations: %w", ErrCorrupt)
	}
	d.State = st
	return nil
}

// promMetrics are the scheduler's Prometheus collectors.
type promMetrics struct {
	submitted   *prometheus.CounterVec
	transitions *prometheus.CounterVec
	retries     *prometheus.CounterVec
	duration    *prometheus.HistogramVec
	wait        prometheus.Histogram
	fuel        prometheus.Counter
}

func newPromMetrics(reg prometheus.Registerer, s *Service) *promMetrics {
	m := &promMetrics{
		submitted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "onvm_jobs_submitted_total", Help: "Job submissions by result: created, existing (same request id and payload), conflict, rejected.",
		}, []string{"result"}),
		transitions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "onvm_jobs_transitions_total", Help: "Job state transitions by from and to state.",
		}, []string{"from", "to"}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "onvm_jobs_retries_total", Help: "Retries scheduled after a transient failure, by failure reason.",
		}, []string{"reason"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "onvm_jobs_attempt_duration_seconds", Help: "Duration of job attempts by the state they led to.",
			Buckets: []float64{.0005, .001, .005, .025, .1, .5, 2.5, 10, 60, 300},
		}, []string{"status"}),
		wait: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "onvm_jobs_queue_wait_seconds", Help: "Time from a job being due (submitted or retry time) to its attempt starting.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .05, .25, 1, 5, 30},
		}),
		fuel: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "onvm_jobs_fuel_consumed_total", Help: "Fuel consumed by job attempts.",
		}),
	}
	if reg == nil {
		return m
	}
	reg.MustRegister(m.submitted, m.transitions, m.retries, m.duration, m.wait, m.fuel,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "onvm_jobs_queue_depth", Help: "Pending jobs (queued or waiting for a retry).",
		}, func() float64 { return float64(s.pending.Load()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "onvm_jobs_running", Help: "Jobs executing now.",
		}, func() float64 { return float64(s.runningCount()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "onvm_jobs_workers", Help: "Size of the worker pool (jobs.max_concurrent).",
		}, func() float64 { return float64(s.workers) }),
	)
	return m
}

func (m *promMetrics) transition(from, to Status) {
	m.transitions.WithLabelValues(from.String(), to.String()).Inc()
}
