package wasm

import (
	"context"
	"errors"
	"fmt"

	"github.com/onvm-network/onvm/internal/wasm/meter"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

// errExhausted is panicked by onvm_meter.exhausted to stop the guest at once
// (the guest would trap on the following unreachable anyway).
var errExhausted = errors.New("meter limit reached")

// instantiateMeterHost registers onvm_meter.exhausted(reason i32), which the
// instrumented guest calls when its fuel falls below the checkpoint (it
// returns if the call may go on, see fuelTank.checkpoint), when its fuel is
// negative, or when the call depth limit is hit.
func instantiateMeterHost(ctx context.Context, r wazero.Runtime) error {
	_, err := r.NewHostModuleBuilder(meter.ImportModule).
		NewFunctionBuilder().
		WithGoModuleFunction(api.GoModuleFunc(func(ctx context.Context, m api.Module, stack []uint64) {
			s := stateOf(ctx)
			reason := api.DecodeU32(stack[0])
			if reason == meter.ReasonCheckpoint {
				if reason = s.fuel.checkpoint(m); reason == 0 {
					return
				}
			}
			s.exhausted = reason
			panic(errExhausted)
		}), []api.ValueType{api.ValueTypeI32}, nil).
		Export(meter.ImportFunc).
		Instantiate(ctx)
	if err != nil {
		return fmt.Errorf("instantiate host module %s: %w", meter.ImportModule, err)
	}
	return nil
}
