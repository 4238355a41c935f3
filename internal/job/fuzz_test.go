package job

import (
	"errors"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/onvm-network/onvm/internal/id"
)

// FuzzApply drives the state machine with arbitrary event sequences and
// checks its invariants: a refused event changes nothing, a terminal job
// never changes again, attempts never go down, retries never exceed the
// limit, and only a completed job has an output.
func FuzzApply(f *testing.F) {
	f.Add([]byte{1, 2}, uint8(3), int64(0))
	f.Add([]byte{1, 3, 1, 3, 1, 3, 1, 3}, uint8(2), int64(50))
	f.Add([]byte{5, 1, 7, 1, 4}, uint8(0), int64(10))
	f.Fuzz(func(t *testing.T, events []byte, maxRetries uint8, ttl int64) {
		j := Job{ID: id.JobOf(id.Program{1}, "r"), RequestID: "r", Status: Pending, MaxRetries: uint32(maxRetries % 8),
			CreatedAt: 1000, NextAttemptAt: 1000, TTLMS: max(ttl, 0) % 10_000}
		at := int64(1000)
		for i, e := range events {
			at += int64(e) * 7
			ev := Event{Kind: EventKind(e%8) + 0, At: at, Transient: e&0x10 != 0, Backoff: time.Duration(e) * time.Millisecond,
				Reason: Reason(e % 13), Fuel: uint64(i)}
			next, err := Apply(j, ev)
			switch {
			case err != nil:
				if !errors.Is(err, ErrTerminal) && !errors.Is(err, ErrTransition) {
					t.Fatalf("event %d: unexpected error %v", i, err)
				}
				if !cmp.Equal(next, j) {
					t.Fatalf("event %d refused but changed the job", i)
				}
			case j.Status.Terminal():
				t.Fatalf("event %d changed terminal job %s", i, j.Status)
			case next.Attempts < j.Attempts, next.RetryCount > next.MaxRetries:
				t.Fatalf("event %d: attempts %d→%d, retries %d/%d", i, j.Attempts, next.Attempts, next.RetryCount, next.MaxRetries)
			case next.HasOutput != (next.Status == Completed):
				t.Fatalf("event %d: %s with output %v", i, next.Status, next.HasOutput)
			case !next.Status.Valid():
				t.Fatalf("event %d: invalid status %d", i, next.Status)
			}
			j = next
		}
	})
}

// FuzzSubmitValidate: validation of a client's submission never panics,
// and what it accepts is within the limits.
func FuzzSubmitValidate(f *testing.F) {
	f.Add("req", "k", "v", 10, int64(5), int64(0))
	f.Add("", "", "", 0, int64(-1), int64(-1))
	f.Add("\xff", "\x00", "x", 1<<21, int64(0), int64(1))
	f.Fuzz(func(t *testing.T, rid, k, v string, inputLen int, timeout, ttl int64) {
		req := SubmitRequest{RequestID: rid, Input: make([]byte, min(max(inputLen, 0), 2<<20)),
			TimeoutMS: timeout, TTLMS: ttl, Metadata: map[string]string{k: v}}
		if err := req.validate(1 << 20); err != nil {
			if !errors.Is(err, ErrInvalid) && !errors.Is(err, ErrInputTooLarge) {
				t.Fatalf("error %v is neither ErrInvalid nor ErrInputTooLarge", err)
			}
			return
		}
		if rid == "" || len(rid) > MaxRequestID || !utf8.ValidString(rid) || len(req.Input) > 1<<20 ||
			timeout < 0 || ttl < 0 || k == "" || len(k) > MaxMetadataKey || len(v) > MaxMetadataValue {
			t.Fatalf("accepted %+v", req)
		}
	})
}
