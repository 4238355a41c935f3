package wasm

import (
	"context"
	"errors"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// TestPreparationsBounded: deploys preparing at once run at most prepareSlots preparations in
// the process, from the decoding and instrumenting of the module (which hold copies of it) to
// the validation of the instrumented form; the others wait for a slot. Before, only the
// validations waited, and eight deploys of a module of 30 MB of data instrumented at once.
func TestPreparationsBounded(t *testing.T) {
	code := rawFixture(t, "echo_multi")
	old := prepareSlots
	t.Cleanup(func() { prepareSlots, prepareHook, validateHook = old, nil, nil }) // outside the bubble
	synctest.Test(t, func(t *testing.T) {
		const slots, deploys = 2, 8
		release := make(chan struct{})
		prepareSlots = make(chan struct{}, slots)
		var mu sync.Mutex
		started, validations := 0, 0
		prepareHook = func() {
			mu.Lock()
			started++
			mu.Unlock()
			<-release
		}
		validateHook = func() {
			mu.Lock()
			validations++
			mu.Unlock()
		}
		var wg sync.WaitGroup
		for range deploys {
			wg.Go(func() {
				if _, err := PrepareEntry(t.Context(), code, "run"); err != nil {
					t.Error(err)
				}
			})
		}
		synctest.Wait() // every goroutine holds a slot or waits for one
		mu.Lock()
		if started != slots || preparing.Load() != slots || validations != 0 {
			t.Errorf("%d preparations started (%d holding a slot), %d validations, want %d and 0", started, preparing.Load(), validations, slots)
		}
		mu.Unlock()
		close(release)
		wg.Wait()
		if started != deploys || validations != 2*deploys {
			t.Errorf("%d preparations, %d validations, want %d and %d", started, validations, deploys, 2*deploys)
		}
	})
}

// TestPrepareWaitEndsWithContext: a deploy waiting for a preparation slot stops waiting when
// its request's context ends (a client that gave up does not keep its module in memory).
func TestPrepareWaitEndsWithContext(t *testing.T) {
	code := rawFixture(t, "echo_multi")
	old := prepareSlots
	t.Cleanup(func() { prepareSlots = old })
	prepareSlots = make(chan struct{}, 1)
	prepareSlots <- struct{}{} // every slot taken
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	done := make(chan error, 1)
	go func() {
		_, err := PrepareEntry(ctx, code, "run")
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("PrepareEntry with every slot taken and its context ended: %v", err)
		}
	case <-time.After(30 * time.Second): // a deadline, not a synchronisation
		<-prepareSlots // let it finish
		t.Fatal("PrepareEntry still waits for a slot after its context ended")
	}
}

// TestPrepareEntryValidatesOnce: PrepareEntry, which deploys call instead of Check and then
// Prepare, validates the module once and the instrumented module once (Check and Prepare
// together validated the module twice and instrumented it twice).
func TestPrepareEntryValidatesOnce(t *testing.T) {
	code := rawFixture(t, "echo_multi")
	var n int
	validateHook = func() { n++ }
	t.Cleanup(func() { validateHook = nil })
	if _, err := PrepareEntry(t.Context(), code, "run"); err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Errorf("%d validations, want 2", n)
	}
	if _, err := PrepareEntry(t.Context(), code, "nope"); err == nil {
		t.Error("PrepareEntry accepted a module without its entrypoint")
	}
}
