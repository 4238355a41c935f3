package meter

import (
	"math/bits"

	"github.com/onvm-network/onvm/internal/wasm/meter/wasmbin"
)

// Opcodes used by the injected snippets.
const (
	opI32Add     = 0x6a
	opI32Sub     = 0x6b
	opI32GtU     = 0x4b
	opI64LtS     = 0x53
	opI64Add     = 0x7c
	opI64Sub     = 0x7d
	opI64Mul     = 0x7e
	opI64DivU    = 0x80
	opI64ShrU    = 0x88
	opI64ExtendU = 0xad
	opF32Eq      = 0x5b
	opF64Eq      = 0x61
	blockEmpty   = 0x40
)

// Canonical NaNs: positive, quiet, zero payload.
const (
	CanonicalNaN32 uint32 = 0x7fc00000
	CanonicalNaN64 uint64 = 0x7ff8000000000000
)

func (fi *funcInstrumenter) u32(out []byte, op byte, v uint32) []byte {
	return wasmbin.AppendU32(append(out, op), v)
}

func i64Const(out []byte, v int64) []byte { return wasmbin.AppendS64(append(out, 0x42), v) }
func i32Const(out []byte, v int32) []byte { return wasmbin.AppendS64(append(out, 0x41), int64(v)) }

// trapIf consumes an i32 condition and, if it is non-zero, branches to the trap path of
// reason (see emit).
func (fi *funcInstrumenter) trapIf(out []byte, reason int32) []byte {
	label := fi.nest + fi.body
	for _, r := range fi.traps {
		if r == reason {
			break
		}
		label++
	}
	return fi.u32(out, byte(wasmbin.OpBrIf), label)
}

// trapPath calls exhausted(reason) and executes unreachable.
func (fi *funcInstrumenter) trapPath(out []byte, reason int32) []byte {
	out = i32Const(out, reason)
	out = fi.u32(out, byte(wasmbin.OpCall), fi.exhausted)
	return append(out, byte(wasmbin.OpUnreachable))
}

// storeFuelAndCheck consumes the new fuel value (i64), stores it in onvm_fuel and traps
// with ReasonOutOfFuel if it is negative.
func (fi *funcInstrumenter) storeFuelAndCheck(out []byte) []byte {
	out = fi.u32(out, byte(wasmbin.OpLocalTee), fi.temps.i64)
	out = fi.u32(out, byte(wasmbin.OpGlobalSet), fi.fuel)
	out = fi.u32(out, byte(wasmbin.OpLocalGet), fi.temps.i64)
	out = i64Const(out, 0)
	out = append(out, opI64LtS)
	return fi.trapIf(out, ReasonOutOfFuel)
}

// chargeStatic: onvm_fuel -= cost; trap if onvm_fuel < 0.
func (fi *funcInstrumenter) chargeStatic(out []byte, cost int64) []byte {
	out = fi.u32(out, byte(wasmbin.OpGlobalGet), fi.fuel)
	out = i64Const(out, cost)
	out = append(out, opI64Sub)
	return fi.storeFuelAndCheck(out)
}

// chargeDynamic charges for the i32 size operand on top of the stack, leaving it in place:
// onvm_fuel -= ceil(n/div)*mul; trap if onvm_fuel < 0.
func (fi *funcInstrumenter) chargeDynamic(out []byte, div, mul uint32) []byte {
	out = fi.u32(out, byte(wasmbin.OpLocalTee), fi.temps.i32)
	out = fi.u32(out, byte(wasmbin.OpGlobalGet), fi.fuel)
	out = fi.u32(out, byte(wasmbin.OpLocalGet), fi.temps.i32)
	out = append(out, opI64ExtendU)
	if div > 1 {
		out = i64Const(out, int64(div-1))
		out = append(out, opI64Add)
		if div&(div-1) == 0 {
			out = i64Const(out, int64(bits.TrailingZeros32(div)))
			out = append(out, opI64ShrU)
		} else {
			out = i64Const(out, int64(div))
			out = append(out, opI64DivU)
		}
	}
	if mul > 1 {
		out = i64Const(out, int64(mul))
		out = append(out, opI64Mul)
	}
	out = append(out, opI64Sub)
	return fi.storeFuelAndCheck(out)
}

// depthEnter: onvm_depth += weight; trap if onvm_depth > MaxCallDepth.
func (fi *funcInstrumenter) depthEnter(out []byte) []byte {
	out = fi.u32(out, byte(wasmbin.OpGlobalGet), fi.depth)
	out = i32Const(out, int32(fi.weight))
	out = append(out, opI32Add)
	out = fi.u32(out, byte(wasmbin.OpLocalTee), fi.temps.i32)
	out = fi.u32(out, byte(wasmbin.OpGlobalSet), fi.depth)
	out = fi.u32(out, byte(wasmbin.OpLocalGet), fi.temps.i32)
	out = i32Const(out, int32(fi.cfg.MaxCallDepth))
	out = append(out, opI32GtU)
	return fi.trapIf(out, ReasonCallDepth)
}

// depthLeave: onvm_depth -= weight.
func (fi *funcInstrumenter) depthLeave(out []byte) []byte {
	out = fi.u32(out, byte(wasmbin.OpGlobalGet), fi.depth)
	out = i32Const(out, int32(fi.weight))
	out = append(out, opI32Sub)
	return fi.u32(out, byte(wasmbin.OpGlobalSet), fi.depth)
}

// canonF32 replaces the f32 on top of the stack by CanonicalNaN32 if it is a NaN. It
// branches (if x == x then x else canonical) rather than selecting: NaNs are rare, the branch
// is predicted, and the comparison stays off the value's dependency chain.
func (fi *funcInstrumenter) canonF32(out []byte) []byte {
	out = fi.u32(out, byte(wasmbin.OpLocalTee), fi.temps.f32)
	out = fi.u32(out, byte(wasmbin.OpLocalGet), fi.temps.f32)
	out = append(out, opF32Eq, byte(wasmbin.OpIf), wasmbin.F32)
	out = fi.u32(out, byte(wasmbin.OpLocalGet), fi.temps.f32)
	out = append(out, byte(wasmbin.OpElse), byte(wasmbin.OpF32Const))
	b := CanonicalNaN32
	out = append(out, byte(b), byte(b>>8), byte(b>>16), byte(b>>24))
	return append(out, byte(wasmbin.OpEnd))
}

// canonF64 is canonF32 for f64.
func (fi *funcInstrumenter) canonF64(out []byte) []byte {
	out = fi.u32(out, byte(wasmbin.OpLocalTee), fi.temps.f64)
	out = fi.u32(out, byte(wasmbin.OpLocalGet), fi.temps.f64)
	out = append(out, opF64Eq, byte(wasmbin.OpIf), wasmbin.F64)
	out = fi.u32(out, byte(wasmbin.OpLocalGet), fi.temps.f64)
	out = append(out, byte(wasmbin.OpElse), byte(wasmbin.OpF64Const))
	b := CanonicalNaN64
	for i := range 8 {
		out = append(out, byte(b>>(8*i)))
	}
	return append(out, byte(wasmbin.OpEnd))
}

// nanResult returns F32 or F64 if op is an arithmetic float operation whose NaN result is
// not bit-determined by the spec (sign and payload may vary by CPU), and 0 otherwise.
// Bit-exact operations (neg, abs, copysign, loads, consts, reinterpret) and int-to-float
// conversions (which never produce NaN) are excluded.
func nanResult(op wasmbin.Op) byte {
	switch {
	case op >= 0x8d && op <= 0x97: // f32 ceil floor trunc nearest sqrt add sub mul div min max
		return wasmbin.F32
	case op >= 0x9b && op <= 0xa5: // f64 ceil .. max
		return wasmbin.F64
	case op == 0xb6: // f32.demote_f64
		return wasmbin.F32
	case op == 0xbb: // f64.promote_f32
		return wasmbin.F64
	}
	return 0
}
