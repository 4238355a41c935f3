package wasm

import (
	"sync"
	"testing"
	"testing/synctest"
)

// TestValidationsBounded: deploys validating at once (each Prepare validates the module and
// its instrumented form with the interpreter) run at most validateSlots validations in the
// process; the others wait for a slot. Before the bound, every deploy validated at once.
func TestValidationsBounded(t *testing.T) {
	code := rawFixture(t, "echo_multi")
	old := validateSlots
	t.Cleanup(func() { validateSlots, validateHook = old, nil }) // outside the bubble
	synctest.Test(t, func(t *testing.T) {
		const slots, deploys = 2, 8
		release := make(chan struct{})
		validateSlots = make(chan struct{}, slots)
		validateHook = func() { <-release }
		var wg sync.WaitGroup
		for range deploys {
			wg.Go(func() {
				if _, err := PrepareEntry(code, "run"); err != nil {
					t.Error(err)
				}
			})
		}
		synctest.Wait() // every goroutine holds a slot or waits for one
		if n := validating.Load(); n != slots {
			t.Errorf("%d validations at once, want %d", n, slots)
		}
		close(release)
		wg.Wait()
	})
}

// TestPrepareEntryValidatesOnce: PrepareEntry, which deploys call instead of Check and then
// Prepare, validates the module once and the instrumented module once (Check and Prepare
// together validated the module twice and instrumented it twice).
func TestPrepareEntryValidatesOnce(t *testing.T) {
	code := rawFixture(t, "echo_multi")
	var n int
	validateHook = func() { n++ }
	t.Cleanup(func() { validateHook = nil })
	if _, err := PrepareEntry(code, "run"); err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Errorf("%d validations, want 2", n)
	}
	if _, err := PrepareEntry(code, "nope"); err == nil {
		t.Error("PrepareEntry accepted a module without its entrypoint")
	}
}
