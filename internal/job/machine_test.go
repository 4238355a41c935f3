package job

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/onvm-network/onvm/internal/id"
)

// TestApplyTable tries every event in every state: the allowed transitions
// give the listed state, every other pair is refused (ErrTerminal from a
// terminal state, ErrTransition otherwise) and leaves the job unchanged.
func TestApplyTable(t *testing.T) {
	const at = 10_000
	base := func(s Status) Job {
		j := Job{ID: id.JobOf(id.Program{1}, "r"), RequestID: "r", Status: s, MaxRetries: 2, CreatedAt: 1000, NextAttemptAt: 5000}
		if s == Running {
			j.Attempts, j.StartedAt, j.NextAttemptAt = 1, 9000, 0
		}
		return j
	}
	allowed := map[Status]map[EventKind]Status{
		Pending: {EvStart: Running, EvCancel: Cancelled},
		Running: {EvSucceed: Completed, EvFail: Pending /* transient, retries left */, EvTimeout: TimedOut, EvCancel: Cancelled, EvRequeue: Pending},
	}
	events := []EventKind{EvStart, EvSucceed, EvFail, EvTimeout, EvCancel, EvExpire, EvRequeue}
	for _, s := range Statuses {
		for _, k := range events {
			t.Run(s.String()+"/"+k.String(), func(t *testing.T) {
				j := base(s)
				ev := Event{Kind: k, At: at, Transient: true, Backoff: 1500 * time.Millisecond, Reason: ReasonMissingDependency, Message: "m"}
				got, err := Apply(j, ev)
				want, ok := allowed[s][k]
				switch {
				case ok && err != nil:
					t.Fatalf("refused: %v", err)
				case ok && got.Status != want:
					t.Fatalf("status %s, want %s", got.Status, want)
				case !ok && err == nil:
					t.Fatalf("allowed, gave %s", got.Status)
				case !ok && s.Terminal() && !errors.Is(err, ErrTerminal):
					t.Fatalf("error %v, want ErrTerminal", err)
				case !ok && !s.Terminal() && !errors.Is(err, ErrTransition):
					t.Fatalf("error %v, want ErrTransition", err)
				case !ok && !cmp.Equal(got, j):
					t.Fatalf("refused event changed the job: %s", cmp.Diff(j, got))
				}
			})
		}
	}
}

// TestApplyFields checks what each allowed transition records.
func TestApplyFields(t *testing.T) {
	pending := Job{ID: id.JobOf(id.Program{1}, "r"), Status: Pending, MaxRetries: 1, CreatedAt: 1000, NextAttemptAt: 1000}
	must := func(j Job, ev Event) Job {
		t.Helper()
		out, err := Apply(j, ev)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	run := must(pending, Event{Kind: EvStart, At: 2000})
	if run.Attempts != 1 || run.StartedAt != 2000 || run.NextAttemptAt != 0 {
		t.Fatalf("start: %+v", run)
	}
	// A transient failure with retries left: pending again, due Backoff
	// after the failure (not after creation or start).
	retry := must(run, Event{Kind: EvFail, At: 2500, Transient: true, Backoff: 3 * time.Second, Reason: ReasonMissingDependency, Message: "code not here", Fuel: 7})
	if retry.Status != Pending || retry.RetryCount != 1 || retry.NextAttemptAt != 5500 || retry.Error != "code not here" || retry.Reason != ReasonMissingDependency || retry.FuelConsumed != 7 || retry.CompletedAt != 0 {
		t.Fatalf("retry: %+v", retry)
	}
	if _, err := Apply(retry, Event{Kind: EvStart, At: 5499}); !errors.Is(err, ErrTransition) {
		t.Fatalf("start before the retry is due: %v", err)
	}
	run2 := must(retry, Event{Kind: EvStart, At: 5500})
	// Retries exhausted: the same transient failure is final.
	failed := must(run2, Event{Kind: EvFail, At: 6000, Transient: true, Backoff: time.Second, Reason: ReasonMissingDependency, Message: "still"})
	if failed.Status != Failed || failed.CompletedAt != 6000 || failed.RetryCount != 1 || failed.Attempts != 2 {
		t.Fatalf("exhausted: %+v", failed)
	}
	// A deterministic failure is final at once.
	if f := must(run, Event{Kind: EvFail, At: 2600, Reason: ReasonExecutionError, Message: "trap"}); f.Status != Failed || f.RetryCount != 0 {
		t.Fatalf("deterministic: %+v", f)
	}
	done := must(run, Event{Kind: EvSucceed, At: 2700, Fuel: 99, Receipt: id.Hash{9}, Output: id.Blob{8}, OutputSize: 3})
	if d, ok := done.DurationMS(); !ok || d != 700 || done.FuelConsumed != 99 || !done.HasOutput || done.Receipt != (id.Hash{9}) {
		t.Fatalf("succeed: %+v", done)
	}
	to := must(run, Event{Kind: EvTimeout, At: 3000, Message: "timeout"})
	if to.Reason != ReasonTimeout || to.CompletedAt != 3000 {
		t.Fatalf("timeout: %+v", to)
	}
	rq := must(run, Event{Kind: EvRequeue, At: 4000})
	if rq.Status != Pending || rq.NextAttemptAt != 4000 || rq.RetryCount != 0 || rq.Attempts != 1 {
		t.Fatalf("requeue counts as a retry: %+v", rq)
	}
	// TTL: expiry only once it ran out; start refused after it.
	ttl := pending
	ttl.TTLMS = 500
	if _, err := Apply(ttl, Event{Kind: EvExpire, At: 1499}); !errors.Is(err, ErrTransition) {
		t.Fatalf("expire before ttl: %v", err)
	}
	if _, err := Apply(ttl, Event{Kind: EvStart, At: 1500}); !errors.Is(err, ErrTransition) {
		t.Fatalf("start after ttl: %v", err)
	}
	if x := must(ttl, Event{Kind: EvExpire, At: 1500}); x.Status != Expired || x.Error == "" {
		t.Fatalf("expire: %+v", x)
	}
	if ttl.runAt() != 1000 {
		t.Fatalf("runAt %d", ttl.runAt())
	}
	late := ttl
	late.NextAttemptAt = 9000
	if late.runAt() != 1500 {
		t.Fatalf("runAt of a retry due after the ttl: %d, want the expiry 1500", late.runAt())
	}
}

func TestBackoffDelay(t *testing.T) {
	b := Backoff{Base: time.Second, Max: 10 * time.Second}
	for _, tc := range []struct {
		n    uint32
		u    float64
		want time.Duration
	}{
		{1, 0, 500 * time.Millisecond},
		{1, 0.5, 750 * time.Millisecond},
		{1, 0.999999, time.Second - 500*time.Nanosecond},
		{2, 0, time.Second},
		{3, 0.5, 3 * time.Second},
		{4, 1, 8 * time.Second},
		{5, 0, 5 * time.Second}, // capped at Max
		{5, 1, 10 * time.Second},
		{1000, 1, 10 * time.Second},
	} {
		if got := b.Delay(tc.n, tc.u); got != tc.want {
			t.Errorf("Delay(%d, %v) = %v, want %v", tc.n, tc.u, got, tc.want)
		}
	}
	if d := (Backoff{}).Delay(1, 0); d != DefaultRetryBase/2 {
		t.Errorf("zero policy: %v", d)
	}
}

func TestStatusText(t *testing.T) {
	for _, s := range Statuses {
		b, err := s.MarshalText()
		if err != nil {
			t.Fatal(err)
		}
		var back Status
		if err := back.UnmarshalText(b); err != nil || back != s {
			t.Fatalf("%s: %v %v", b, back, err)
		}
	}
	if _, err := ParseStatus("done"); !errors.Is(err, ErrInvalid) {
		t.Fatal("unknown status accepted")
	}
	if Pending.Terminal() || Running.Terminal() || !Expired.Terminal() {
		t.Fatal("Terminal")
	}
}
