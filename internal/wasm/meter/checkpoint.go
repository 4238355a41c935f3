package meter

import "github.com/onvm-network/onvm/internal/wasm/meter/wasmbin"

// Poll points hand control to the host when onvm_fuel has fallen below onvm_checkpoint, and
// continue when the host returns. Compiled wasm cannot be preempted by the Go scheduler, so
// these host calls are where the runtime checks deadlines and where a stop-the-world pause
// (a GC) can proceed. They never change the fuel charged: a poll point charges its segment
// exactly as chargeStatic does, and a negative onvm_fuel always reaches the host (the
// checkpoint is never negative), which reports it as out of fuel.
//
// The host call must not sit on a loop's hot path: wazero's register allocator stores every
// loop-carried value that lives across a call to the stack on every back edge, even if the
// call never happens (measured: merge sort 9 % slower with an inline call at loop headers).
// So a loop header branches out of the loop to the call and re-enters it through a retry loop
// (wrapLoop); function entries and straight-line polls, which are not on a back edge, call
// inline (pollCheck).

// loopWrappers is the number of frames wrapLoop puts around a loop.
const loopWrappers = 3

// outFrame is a control frame of the output: an original block, if or loop, and whether emit
// wrapped it (a loop) in loopWrappers extra frames.
type outFrame struct {
	wrapped bool
	header  int   // wrapped: index of the loop's first instruction (its poll point)
	cost    int64 // wrapped: the header segment's cost, given back before re-entering
}

func (fi *funcInstrumenter) push(f outFrame) {
	fi.frames = append(fi.frames, f)
	fi.nest++
	if f.wrapped {
		fi.nest += loopWrappers
	}
}

func (fi *funcInstrumenter) pop() outFrame {
	f := fi.frames[len(fi.frames)-1]
	fi.frames = fi.frames[:len(fi.frames)-1]
	fi.nest--
	if f.wrapped {
		fi.nest -= loopWrappers
	}
	return f
}

// markPolls makes a leader a poll point, on top of the function entry and the loop headers,
// when the segments since the previous poll point (in text order) cost MaxUnpolledCost or
// more; and it notes which temporaries and trap paths the checks need.
//
// Between two poll points control only moves forward (every backward branch targets a loop
// header), so a stretch of execution without a poll runs instructions in text order, each
// at most once, and costs at most MaxUnpolledCost plus one segment, per frame it runs in.
func (fi *funcInstrumenter) markPolls() {
	var since int64
	for i, lead := range fi.leader {
		if !lead {
			continue
		}
		if since >= MaxUnpolledCost {
			fi.poll[i] = true
		}
		if fi.poll[i] {
			since = 0
			fi.need.i64 = fi.need.i64 || fi.cost[i] > 0
		} else if fi.cost[i] > 0 {
			fi.need.i64, fi.fuelTrap = true, true
		}
		since += fi.cost[i]
	}
}

// wrappable reports whether a loop can be wrapped: its block type takes no parameters (the
// retry path re-enters it with an empty operand stack).
func (fi *funcInstrumenter) wrappable(in wasmbin.Instr) bool {
	if in.Imm2 != wasmbin.BlockIndex {
		return true // empty or a single result
	}
	return in.Imm < uint32(len(fi.types)) && len(fi.types[in.Imm].Params) == 0
}

// loopHeader reports whether instruction i is the first of a wrapped loop's body.
func (fi *funcInstrumenter) loopHeader(i int) bool {
	n := len(fi.frames)
	return n > 0 && fi.frames[n-1].wrapped && fi.frames[n-1].header == i
}

// wrapLoop emits the loop instruction at index i (bytes loop) inside its wrappers:
//
//	block bt              ;; $exit
//	  loop bt             ;; $retry
//	    block             ;; $slow
//	      loop bt         ;; the original loop; its header: charge, br_if $slow if below
//	        ...           ;; the checkpoint (loopCheck)
//	      end
//	      br $exit
//	    end
//	    i32.const 4 call $exhausted   ;; the host sees the fuel charged by the header
//	    onvm_fuel += header cost      ;; charged again when the loop is re-entered
//	    br $retry
//	  end
//	end
//
// The header is charged again on re-entry, so the fuel charged is exactly the original's.
// The retry loop's merge is counted in the frame weight (analyse).
func (fi *funcInstrumenter) wrapLoop(out, loop []byte, i int) []byte {
	bt := loop[1:]
	out = append(append(out, byte(wasmbin.OpBlock)), bt...)
	out = append(append(out, byte(wasmbin.OpLoop)), bt...)
	out = append(out, byte(wasmbin.OpBlock), blockEmpty)
	out = append(out, loop...)
	fi.push(outFrame{wrapped: true, header: i + 1, cost: fi.cost[i+1]})
	return out
}

// loopCheck is a wrapped loop's header check: charge the header segment, and leave the loop
// for the host call if onvm_fuel < onvm_checkpoint (including when it is negative).
func (fi *funcInstrumenter) loopCheck(out []byte, cost int64) []byte {
	out = fi.chargeAndCompare(out, cost)
	return fi.u32(out, byte(wasmbin.OpBrIf), 1) // $slow
}

// loopTail closes a wrapped loop after its end (see wrapLoop).
func (fi *funcInstrumenter) loopTail(out []byte, cost int64) []byte {
	out = fi.u32(out, byte(wasmbin.OpBr), 2) // $exit
	out = append(out, byte(wasmbin.OpEnd))   // $slow
	out = i32Const(out, ReasonCheckpoint)
	out = fi.u32(out, byte(wasmbin.OpCall), fi.exhausted)
	if cost > 0 {
		out = fi.u32(out, byte(wasmbin.OpGlobalGet), fi.fuel)
		out = i64Const(out, cost)
		out = append(out, opI64Add)
		out = fi.u32(out, byte(wasmbin.OpGlobalSet), fi.fuel)
	}
	out = fi.u32(out, byte(wasmbin.OpBr), 0) // $retry
	return append(out, byte(wasmbin.OpEnd), byte(wasmbin.OpEnd))
}

// pollCheck is the check of the other poll points (function entries and straight-line
// polls): charge the segment and, if onvm_fuel < onvm_checkpoint, call
// exhausted(ReasonCheckpoint) inline and continue when it returns.
func (fi *funcInstrumenter) pollCheck(out []byte, cost int64) []byte {
	out = fi.chargeAndCompare(out, cost)
	out = append(out, byte(wasmbin.OpIf), blockEmpty)
	out = i32Const(out, ReasonCheckpoint)
	out = fi.u32(out, byte(wasmbin.OpCall), fi.exhausted)
	return append(out, byte(wasmbin.OpEnd))
}

// chargeAndCompare charges cost (if any) and leaves onvm_fuel < onvm_checkpoint (i32).
func (fi *funcInstrumenter) chargeAndCompare(out []byte, cost int64) []byte {
	if cost > 0 {
		out = fi.u32(out, byte(wasmbin.OpGlobalGet), fi.fuel)
		out = i64Const(out, cost)
		out = append(out, opI64Sub)
		out = fi.u32(out, byte(wasmbin.OpLocalTee), fi.temps.i64)
		out = fi.u32(out, byte(wasmbin.OpGlobalSet), fi.fuel)
		out = fi.u32(out, byte(wasmbin.OpLocalGet), fi.temps.i64)
	} else {
		out = fi.u32(out, byte(wasmbin.OpGlobalGet), fi.fuel)
	}
	out = fi.u32(out, byte(wasmbin.OpGlobalGet), fi.checkpoint)
	return append(out, opI64LtS)
}
