package job

import (
	"fmt"
	"testing"

	"github.com/onvm-network/onvm/internal/wasm"
)

// TestClassifyGuestLimits: a guest that hits a limit of its own making
// fails deterministically with its own reason, never retried.
func TestClassifyGuestLimits(t *testing.T) {
	tests := []struct {
		kind   wasm.ErrorKind
		reason Reason
		text   string
	}{
		{wasm.KindOutputTooLarge, ReasonOutputTooLarge, "output_too_large"},
		{wasm.KindWritesTooLarge, ReasonWritesTooLarge, "writes_too_large"},
		{wasm.KindOutOfFuel, ReasonOutOfFuel, "out_of_fuel"},
	}
	for _, tt := range tests {
		t.Run(tt.kind.String(), func(t *testing.T) {
			err := fmt.Errorf("execute p: %w", &wasm.Error{Kind: tt.kind, FuelUsed: 7})
			v := classify(err, nil)
			if v.kind != EvFail || v.transient || v.reason != tt.reason || v.fuel != 7 {
				t.Fatalf("classify = %+v, want a deterministic failure %s with its fuel", v, tt.reason)
			}
			if v.reason.String() != tt.text {
				t.Fatalf("reason %q, want %q", v.reason, tt.text)
			}
		})
	}
}
