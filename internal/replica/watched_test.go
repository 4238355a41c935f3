package replica

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/onvm-network/onvm/internal/p2p"
)

// TestWatchedGivesUpOnAFrozenMember: a call to a member that stops
// answering pings ends with the ping's error after one interval, not at
// the call's deadline; a call to a member that keeps answering runs to
// its end.
func TestWatchedGivesUpOnAFrozenMember(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		frozen := func(context.Context) error { return fmt.Errorf("reach m: %w", p2p.ErrUnavailable) }
		hang := func(ctx context.Context) (string, error) {
			<-ctx.Done()
			return "", ctx.Err()
		}
		start := time.Now()
		_, err := watched(t.Context(), 2*time.Second, frozen, hang)
		if !errors.Is(err, p2p.ErrUnavailable) {
			t.Fatalf("frozen member: err = %v, want ErrUnavailable", err)
		}
		if d := time.Since(start); d != 2*time.Second {
			t.Fatalf("frozen member: gave up after %s, want 2s", d)
		}

		alive := func(context.Context) error { return nil }
		slow := func(ctx context.Context) (string, error) {
			select {
			case <-time.After(7 * time.Second):
				return "done", nil
			case <-ctx.Done():
				return "", ctx.Err()
			}
		}
		out, err := watched(t.Context(), 2*time.Second, alive, slow)
		if err != nil || out != "done" {
			t.Fatalf("live member: %q, %v; want done", out, err)
		}

		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		if _, err := watched(ctx, 2*time.Second, alive, hang); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("caller's deadline: err = %v, want DeadlineExceeded", err)
		}
	})
}
