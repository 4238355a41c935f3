package wasm

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

// HostModule is the import module of the ONVM host functions.
const HostModule = "env"

const (
	i32 = api.ValueTypeI32
	i64 = api.ValueTypeI64
)

// hostFunc is one function of the env module. fn runs after the call's
// fuel (CostHostCall + hostCosts[name]) has been charged; it reads its i32
// arguments from stack and leaves its one result in stack[0]. It must never
// panic on guest input: bad pointers and lengths are return codes.
type hostFunc struct {
	name    string
	params  []api.ValueType
	results []api.ValueType
	fn      func(s *callState, mem api.Memory, stack []uint64)
}

// hostFuncs is the env ABI: names, signatures and return codes of the
// original (notes §5.4). Order is the order of EnvHash.
var hostFuncs = []hostFunc{
	{"onvm_state_put", sig(i32, i32, i32, i32), sig(i32), statePut},
	{"onvm_state_get", sig(i32, i32, i32, i32), sig(i32), stateGet},
	{"onvm_state_del", sig(i32, i32), sig(i32), stateDel},
	{"onvm_state_exists", sig(i32, i32), sig(i32), stateExists},
	{"onvm_state_len", sig(i32, i32), sig(i64), stateLen},
	{"onvm_state_list", sig(i32, i32, i32, i32), sig(i32), stateList},
	{"onvm_state_root", sig(i32), sig(i32), stateRoot},
	{"onvm_blob_read", sig(i32, i32, i32, i32), sig(i32), blobRead},
	{"onvm_blob_len", sig(i32, i32), sig(i64), blobLen},
	{"onvm_blob_hash", sig(i32, i32, i32), sig(i32), blobHash},
	{"onvm_blob_exists", sig(i32, i32), sig(i32), blobExists},
	{"onvm_blob_addr", sig(i32, i32, i32), sig(i32), blobAddr},
	{"onvm_log", sig(i32, i32, i32), sig(i32), hostLog},
	{"onvm_now_ms", sig(), sig(i64), nowMs},
	{"onvm_random_bytes", sig(i32, i32), sig(i32), randomBytes},
	{"onvm_crypto_hash", sig(i32, i32, i32, i32, i32), sig(i32), cryptoHash},
	{"onvm_crypto_secp256k1_verify", sig(i32, i32, i32), sig(i32), secpVerify},
	{"onvm_crypto_secp256k1_recover", sig(i32, i32, i32), sig(i32), secpRecover},
	{"onvm_call", sig(i32, i32, i32, i32, i32, i32, i32), sig(i32), callUnavailable},
	{"onvm_call_result", sig(i32, i32, i32), sig(i32), callUnavailable},
	{"onvm_msg_cycles_available", sig(), sig(i64), cyclesAvailable},
}

func sig(t ...api.ValueType) []api.ValueType { return t }

// stateKey is the context key under which Run passes the call's state to
// host functions.
type stateKey struct{}

// errNoCallState means a host function ran outside Run (a wiring bug).
var errNoCallState = errors.New("host function called outside a call")

func stateOf(ctx context.Context) *callState {
	s, _ := ctx.Value(stateKey{}).(*callState)
	if s == nil {
		panic(errNoCallState)
	}
	return s
}

// instantiateHost registers the env module in r.
func instantiateHost(ctx context.Context, r wazero.Runtime) error {
	b := r.NewHostModuleBuilder(HostModule)
	for _, h := range hostFuncs {
		cost := CostHostCall + hostCosts[h.name]
		fn := h.fn
		perCall := strings.HasPrefix(h.name, "onvm_state_") || strings.HasPrefix(h.name, "onvm_blob_")
		name := h.name
		b.NewFunctionBuilder().
			WithGoModuleFunction(api.GoModuleFunc(func(ctx context.Context, m api.Module, stack []uint64) {
				s := stateOf(ctx)
				if perCall && s.initializing {
					panic(errInitUnavailable(name))
				}
				s.fuel.charge(cost)
				mem := m.Memory()
				if mem == nil {
					stack[0] = api.EncodeI32(-1) // notes §5.4: -1 = no memory export
					return
				}
				fn(s, mem, stack)
			}), h.params, h.results).
			Export(h.name)
	}
	if _, err := b.Instantiate(ctx); err != nil {
		return fmt.Errorf("instantiate host module %s: %w", HostModule, err)
	}
	return nil
}

// arg returns argument i as the guest's signed i32.
func arg(stack []uint64, i int) int32 { return api.DecodeI32(stack[i]) }

func ret32(stack []uint64, v int32) { stack[0] = api.EncodeI32(v) }
func ret64(stack []uint64, v int64) { stack[0] = api.EncodeI64(v) }

// view returns guest memory [ptr, ptr+n) without copying, or false when ptr
// or n is negative or the range is out of bounds. It charges bytesCost(n).
// The slice is valid only until the guest runs again.
func (s *callState) view(mem api.Memory, ptr, n int32) ([]byte, bool) {
	if ptr < 0 || n < 0 {
		return nil, false
	}
	b, ok := mem.Read(uint32(ptr), uint32(n))
	if !ok {
		return nil, false
	}
	s.fuel.charge(bytesCost(uint64(n)))
	return b, true
}

// read is view plus a copy the host may keep.
func (s *callState) read(mem api.Memory, ptr, n int32) ([]byte, bool) {
	b, ok := s.view(mem, ptr, n)
	if !ok {
		return nil, false
	}
	return append([]byte{}, b...), true
}

// write copies data into guest memory at ptr, charging bytesCost(len(data)).
func (s *callState) write(mem api.Memory, ptr int32, data []byte) bool {
	if ptr < 0 {
		return false
	}
	if uint64(ptr)+uint64(len(data)) > uint64(mem.Size()) {
		return false
	}
	s.fuel.charge(bytesCost(uint64(len(data))))
	return mem.Write(uint32(ptr), data)
}
