package job

import (
	"fmt"
	"time"

	"github.com/onvm-network/onvm/internal/id"
)

// Job is a job's durable record: what was submitted, where it stands, and
// the result of its last attempt. Times are Unix milliseconds, 0 = unset.
// The canonical CBOR encoding is what the store keeps under j/r/.
type Job struct {
	ID         id.Job            `cbor:"1,keyasint"`
	RequestID  string            `cbor:"2,keyasint"`
	Program    id.Program        `cbor:"3,keyasint"`
	Status     Status            `cbor:"4,keyasint"`
	HasInput   bool              `cbor:"5,keyasint,omitempty"` // false: empty input
	Input      id.Blob           `cbor:"6,keyasint,omitempty"`
	MaxRetries uint32            `cbor:"7,keyasint,omitempty"`
	TimeoutMS  int64             `cbor:"8,keyasint,omitempty"` // 0: the node's default
	FuelLimit  uint64            `cbor:"9,keyasint,omitempty"` // 0: the node's default
	TTLMS      int64             `cbor:"10,keyasint,omitempty"`
	Metadata   map[string]string `cbor:"11,keyasint,omitempty"`

	CreatedAt     int64  `cbor:"12,keyasint"`
	StartedAt     int64  `cbor:"13,keyasint,omitempty"` // start of the latest attempt
	CompletedAt   int64  `cbor:"14,keyasint,omitempty"` // when it became terminal
	NextAttemptAt int64  `cbor:"15,keyasint,omitempty"` // while pending: not before this
	RetryCount    uint32 `cbor:"16,keyasint,omitempty"` // retries scheduled after failures
	Attempts      uint32 `cbor:"17,keyasint,omitempty"` // attempts started (retries, restarts)

	FuelConsumed uint64  `cbor:"18,keyasint,omitempty"` // by the latest attempt
	Error        string  `cbor:"19,keyasint,omitempty"` // the latest failure
	Reason       Reason  `cbor:"20,keyasint,omitempty"`
	Receipt      id.Hash `cbor:"21,keyasint,omitempty"` // the transition's receipt id
	HasOutput    bool    `cbor:"22,keyasint,omitempty"`
	Output       id.Blob `cbor:"23,keyasint,omitempty"`
	OutputSize   int64   `cbor:"24,keyasint,omitempty"`
	Executor     id.Node `cbor:"25,keyasint,omitempty"` // set on imported records
	Imported     bool    `cbor:"26,keyasint,omitempty"` // a peer's terminal record

	// Shell bookkeeping: the time of the job's queue key while pending, and
	// the next log entry number and bytes of log kept.
	QueueAt  int64  `cbor:"27,keyasint,omitempty"`
	LogSeq   uint32 `cbor:"28,keyasint,omitempty"`
	LogBytes int64  `cbor:"29,keyasint,omitempty"`
	// InputInline: the input's bytes are kept under j/i/ (small inputs;
	// the blob store gets its copy in the background).
	InputInline bool `cbor:"30,keyasint,omitempty"`
}

// DurationMS returns how long the latest attempt ran until the job became
// terminal, or false when it never started or is not terminal.
func (j *Job) DurationMS() (int64, bool) {
	if !j.Status.Terminal() || j.StartedAt == 0 || j.CompletedAt < j.StartedAt {
		return 0, false
	}
	return j.CompletedAt - j.StartedAt, true
}

// expired reports whether the job's ttl has run out at now.
func (j *Job) expired(now int64) bool {
	return j.TTLMS > 0 && now >= j.CreatedAt+j.TTLMS
}

// runAt is when a pending job next needs the scheduler: its next attempt,
// or its expiry when that comes first.
func (j *Job) runAt() int64 {
	t := j.NextAttemptAt
	if j.TTLMS > 0 {
		t = min(t, j.CreatedAt+j.TTLMS)
	}
	return t
}

// EventKind names what happened to a job.
type EventKind uint8

// Events.
const (
	EvStart   EventKind = iota + 1 // a worker begins an attempt
	EvSucceed                      // the attempt's transition committed
	EvFail                         // the attempt failed (Transient says whether it may be retried)
	EvTimeout                      // the wall-clock limit stopped the guest
	EvCancel                       // a client cancelled the job
	EvExpire                       // the ttl ran out while pending
	EvRequeue                      // the node stopped (or died) during the attempt
)

var eventNames = [...]string{
	EvStart: "start", EvSucceed: "succeed", EvFail: "fail", EvTimeout: "timeout",
	EvCancel: "cancel", EvExpire: "expire", EvRequeue: "requeue",
}

func (k EventKind) String() string {
	if int(k) < len(eventNames) && eventNames[k] != "" {
		return eventNames[k]
	}
	return fmt.Sprintf("event(%d)", uint8(k))
}

// Event is one input of the state machine. At is the time it happened
// (Unix ms); the other fields belong to the kinds named.
type Event struct {
	Kind EventKind
	At   int64

	Fuel       uint64  // EvSucceed, EvFail, EvTimeout: fuel the attempt used
	Receipt    id.Hash // EvSucceed
	Output     id.Blob // EvSucceed
	OutputSize int64   // EvSucceed

	Reason    Reason        // EvFail
	Message   string        // EvFail, EvTimeout
	Transient bool          // EvFail: may be retried
	Backoff   time.Duration // EvFail with Transient: delay before the retry
}

// Apply returns the job after ev, or an error wrapping ErrTerminal (the
// job is finished) or ErrTransition (ev is not allowed in the job's state).
// It is pure: j is not modified.
//
// The transitions:
//
//	pending  --start-->   running    (due, not expired; attempts+1)
//	pending  --cancel-->  cancelled
//	pending  --expire-->  expired    (only once ttl has run out)
//	running  --succeed--> completed
//	running  --fail-->    pending    (transient and retry_count < max_retries: retry_count+1,
//	                                  next attempt = At + Backoff, measured from this failure)
//	running  --fail-->    failed     (deterministic, or retries exhausted)
//	running  --timeout--> timed_out
//	running  --cancel-->  cancelled
//	running  --requeue--> pending    (node stopped: no retry counted, due at once)
func Apply(j Job, ev Event) (Job, error) {
	if j.Status.Terminal() {
		return j, fmt.Errorf("job %s: %w (%s), cannot %s", j.ID, ErrTerminal, j.Status, ev.Kind)
	}
	refuse := func(why string) (Job, error) {
		return j, fmt.Errorf("job %s: %w: %s while %s%s", j.ID, ErrTransition, ev.Kind, j.Status, why)
	}
	switch ev.Kind {
	case EvStart:
		switch {
		case j.Status != Pending:
			return refuse("")
		case j.expired(ev.At):
			return refuse(": ttl ran out")
		case ev.At < j.NextAttemptAt:
			return refuse(": not due yet")
		}
		j.Status, j.StartedAt, j.NextAttemptAt, j.CompletedAt = Running, ev.At, 0, 0
		j.Attempts++
	case EvSucceed:
		if j.Status != Running {
			return refuse("")
		}
		j.Status, j.CompletedAt, j.FuelConsumed = Completed, ev.At, ev.Fuel
		j.Receipt, j.HasOutput, j.Output, j.OutputSize = ev.Receipt, true, ev.Output, ev.OutputSize
		j.Error, j.Reason = "", ReasonNone
	case EvFail:
		if j.Status != Running {
			return refuse("")
		}
		j.FuelConsumed, j.Error, j.Reason = ev.Fuel, ev.Message, ev.Reason
		if ev.Transient && j.RetryCount < j.MaxRetries {
			j.Status = Pending
			j.RetryCount++
			j.NextAttemptAt = ev.At + max(ev.Backoff.Milliseconds(), 0)
		} else {
			j.Status, j.CompletedAt = Failed, ev.At
		}
	case EvTimeout:
		if j.Status != Running {
			return refuse("")
		}
		j.Status, j.CompletedAt, j.FuelConsumed = TimedOut, ev.At, ev.Fuel
		j.Error, j.Reason = ev.Message, ReasonTimeout
	case EvCancel:
		j.Status, j.CompletedAt, j.NextAttemptAt = Cancelled, ev.At, 0
	case EvExpire:
		if j.Status != Pending || !j.expired(ev.At) {
			return refuse(": ttl has not run out")
		}
		j.Status, j.CompletedAt, j.NextAttemptAt = Expired, ev.At, 0
		j.Error = fmt.Sprintf("ttl of %d ms ran out before the job ran", j.TTLMS)
	case EvRequeue:
		if j.Status != Running {
			return refuse("")
		}
		j.Status, j.NextAttemptAt = Pending, ev.At
	default:
		return refuse(": unknown event")
	}
	return j, nil
}
