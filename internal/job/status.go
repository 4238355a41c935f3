package job

import "fmt"

// Status is a job's state. The text forms are the original's JSON strings.
type Status uint8

// Job states. Pending and Running are live; the others are terminal.
const (
	Pending   Status = iota + 1 // queued, waiting for its next attempt
	Running                     // an attempt is executing
	Completed                   // the transition committed; output stored
	Failed                      // a deterministic failure, or retries exhausted
	Cancelled                   // cancelled by a client; never commits state
	TimedOut                    // the wall-clock limit stopped the guest
	Expired                     // still pending when its ttl ran out; never ran to completion
)

var statusNames = [...]string{
	Pending: "pending", Running: "running", Completed: "completed", Failed: "failed",
	Cancelled: "cancelled", TimedOut: "timed_out", Expired: "expired",
}

// Statuses lists every state in order.
var Statuses = []Status{Pending, Running, Completed, Failed, Cancelled, TimedOut, Expired}

func (s Status) String() string {
	if int(s) < len(statusNames) && statusNames[s] != "" {
		return statusNames[s]
	}
	return fmt.Sprintf("status(%d)", uint8(s))
}

// Terminal reports whether s is final: no event changes it.
func (s Status) Terminal() bool { return s >= Completed && s <= Expired }

// Valid reports whether s is one of the defined states.
func (s Status) Valid() bool { return s >= Pending && s <= Expired }

// MarshalText encodes the status as its string.
func (s Status) MarshalText() ([]byte, error) {
	if !s.Valid() {
		return nil, fmt.Errorf("%w: status %d", ErrInvalid, uint8(s))
	}
	return []byte(s.String()), nil
}

// UnmarshalText parses a status string.
func (s *Status) UnmarshalText(b []byte) error {
	v, err := ParseStatus(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// ParseStatus parses the text form of a status.
func ParseStatus(text string) (Status, error) {
	for _, s := range Statuses {
		if s.String() == text {
			return s, nil
		}
	}
	return 0, fmt.Errorf("%w: unknown status %q", ErrInvalid, text)
}

// Reason says why an attempt failed (the original's FailureReason, plus
// the runtime's own kinds). It is kept on a retried job as the reason of
// its last failure.
type Reason uint8

// Failure reasons.
const (
	ReasonNone                  Reason = iota
	ReasonExecutionError               // the guest trapped or exited
	ReasonOutOfFuel                    // deterministic
	ReasonOutOfMemory                  // deterministic
	ReasonCallDepth                    // deterministic
	ReasonOutputTooLarge               // above the runtime's or jobs.max_output limit
	ReasonTimeout                      // the job's wall-clock limit
	ReasonInvalidProgram               // invalid module, unknown program, other runtime environment
	ReasonInvalidInput                 // malformed call, input too large, request id used with another input
	ReasonMissingDependency            // program code or input blob not stored here (yet): transient
	ReasonNetworkError                 // the committee cannot be reached: transient
	ReasonInsufficientResources        // disk full, node overloaded: transient
	ReasonSchedulerError               // a node-side error: transient
	ReasonWritesTooLarge               // the guest staged more state writes than a transition may carry: deterministic
)

var reasonNames = [...]string{
	ReasonNone: "", ReasonExecutionError: "execution_error", ReasonOutOfFuel: "out_of_fuel",
	ReasonOutOfMemory: "out_of_memory", ReasonCallDepth: "call_depth_exceeded",
	ReasonOutputTooLarge: "output_too_large", ReasonTimeout: "timeout",
	ReasonInvalidProgram: "invalid_program", ReasonInvalidInput: "invalid_input",
	ReasonMissingDependency: "missing_dependency", ReasonNetworkError: "network_error",
	ReasonInsufficientResources: "insufficient_resources", ReasonSchedulerError: "scheduler_error",
	ReasonWritesTooLarge: "writes_too_large",
}

func (r Reason) String() string {
	if int(r) < len(reasonNames) {
		return reasonNames[r]
	}
	return fmt.Sprintf("reason(%d)", uint8(r))
}

// MarshalText encodes the reason as its string.
func (r Reason) MarshalText() ([]byte, error) { return []byte(r.String()), nil }
