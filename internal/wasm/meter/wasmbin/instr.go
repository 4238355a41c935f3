package wasmbin

import "fmt"

// Op is an opcode. Single-byte opcodes are their byte; 0xfc-prefixed ones are 0xfc00|sub.
type Op uint16

// Opcodes the instrumentation treats specially.
const (
	OpUnreachable  Op = 0x00
	OpNop          Op = 0x01
	OpBlock        Op = 0x02
	OpLoop         Op = 0x03
	OpIf           Op = 0x04
	OpElse         Op = 0x05
	OpEnd          Op = 0x0b
	OpBr           Op = 0x0c
	OpBrIf         Op = 0x0d
	OpBrTable      Op = 0x0e
	OpReturn       Op = 0x0f
	OpCall         Op = 0x10
	OpCallIndirect Op = 0x11
	OpDrop         Op = 0x1a
	OpLocalGet     Op = 0x20
	OpLocalSet     Op = 0x21
	OpLocalTee     Op = 0x22
	OpGlobalGet    Op = 0x23
	OpGlobalSet    Op = 0x24
	OpMemoryGrow   Op = 0x40
	OpI32Const     Op = 0x41
	OpI64Const     Op = 0x42
	OpF32Const     Op = 0x43
	OpF64Const     Op = 0x44
	OpRefFunc      Op = 0xd2
	OpMemoryInit   Op = 0xfc08
	OpMemoryCopy   Op = 0xfc0a
	OpMemoryFill   Op = 0xfc0b
	OpTableInit    Op = 0xfc0c
	OpTableCopy    Op = 0xfc0e
	OpTableGrow    Op = 0xfc0f
	OpTableFill    Op = 0xfc11
)

// Instr is one decoded instruction: its opcode, its byte range in the body and its first
// two immediates (label, function, type, table, data or element index, as the opcode says).
// For block, loop and if, Imm2 is the block type's form (BlockEmpty, BlockValue or
// BlockIndex) and Imm the type index when the form is BlockIndex.
type Instr struct {
	Op         Op
	Start, End uint32
	Imm, Imm2  uint32
}

// Block type forms.
const (
	BlockEmpty uint32 = 0 // []->[]
	BlockValue uint32 = 1 // []->[t]
	BlockIndex uint32 = 2 // a type index
)

type immKind uint8

const (
	immBad immKind = iota
	immNone
	immBlock
	immU32 // label, function, local, global, table, ref.func
	immU32x2
	immBrTable
	immMemArg
	immZero // memory.size / memory.grow reserved byte
	immI32
	immI64
	immF32
	immF64
	immSelectT
	immRefNull
	immPrefixFC
)

var opImm [256]immKind

var unsupportedNames = map[byte]string{
	0x06: "try (exceptions)", 0x07: "catch (exceptions)", 0x08: "throw (exceptions)",
	0x09: "rethrow (exceptions)", 0x0a: "throw_ref (exceptions)", 0x12: "return_call (tail calls)",
	0x13: "return_call_indirect (tail calls)", 0x14: "call_ref (function references)",
	0x15: "return_call_ref (tail calls)", 0x18: "delegate (exceptions)", 0x19: "catch_all (exceptions)",
	0x1f: "try_table (exceptions)", 0xd3: "ref.eq (GC)", 0xd4: "ref.as_non_null (function references)",
	0xd5: "br_on_null (function references)", 0xd6: "br_on_non_null (function references)",
	0xfb: "GC prefix 0xfb", 0xfd: "SIMD prefix 0xfd", 0xfe: "threads/atomics prefix 0xfe",
}

func init() {
	set := func(lo, hi int, k immKind) {
		for i := lo; i <= hi; i++ {
			opImm[i] = k
		}
	}
	set(0x00, 0x01, immNone)
	set(0x02, 0x04, immBlock)
	opImm[0x05] = immNone
	opImm[0x0b] = immNone
	set(0x0c, 0x0d, immU32)
	opImm[0x0e] = immBrTable
	opImm[0x0f] = immNone
	opImm[0x10] = immU32
	opImm[0x11] = immU32x2
	set(0x1a, 0x1b, immNone)
	opImm[0x1c] = immSelectT
	set(0x20, 0x26, immU32)
	set(0x28, 0x3e, immMemArg)
	set(0x3f, 0x40, immZero)
	opImm[0x41] = immI32
	opImm[0x42] = immI64
	opImm[0x43] = immF32
	opImm[0x44] = immF64
	set(0x45, 0xc4, immNone)
	opImm[0xd0] = immRefNull
	opImm[0xd1] = immNone
	opImm[0xd2] = immU32
	opImm[0xfc] = immPrefixFC
}

// OpName names an opcode for error messages.
func OpName(op Op) string {
	if op > 0xff {
		return fmt.Sprintf("0x%02x 0x%02x", byte(op>>8), byte(op))
	}
	if n, ok := unsupportedNames[byte(op)]; ok {
		return fmt.Sprintf("0x%02x %s", byte(op), n)
	}
	return fmt.Sprintf("0x%02x", byte(op))
}

// DecodeInstr decodes the instruction at r's offset. For br_table it appends the label
// vector (targets followed by the default) to labels and returns it.
func DecodeInstr(r *Reader, labels []uint32) (Instr, []uint32, error) {
	in := Instr{Start: uint32(r.Offset())}
	b, err := r.Byte()
	if err != nil {
		return in, labels, err
	}
	in.Op = Op(b)
	switch opImm[b] {
	case immNone:
	case immBlock:
		in.Imm, in.Imm2, err = readBlockType(r)
	case immU32:
		in.Imm, err = r.U32()
	case immU32x2:
		if in.Imm, err = r.U32(); err == nil {
			in.Imm2, err = r.U32()
		}
	case immBrTable:
		var n uint32
		if n, err = r.Count(1); err != nil {
			break
		}
		for i := uint32(0); i <= n && err == nil; i++ {
			var l uint32
			if l, err = r.U32(); err == nil {
				labels = append(labels, l)
			}
		}
	case immMemArg:
		var align uint32
		if align, err = r.U32(); err == nil {
			if align&0x40 != 0 {
				err = fmt.Errorf("%w: memory index in memarg (multi-memory)", ErrUnsupported)
				break
			}
			in.Imm2, err = r.U32()
		}
	case immZero:
		err = readZero(r)
	case immI32:
		_, err = r.S32()
	case immI64:
		_, err = r.S64()
	case immF32:
		_, err = r.Bytes(4)
	case immF64:
		_, err = r.Bytes(8)
	case immSelectT:
		var n uint32
		if n, err = r.Count(1); err != nil {
			break
		}
		for i := uint32(0); i < n && err == nil; i++ {
			_, err = readValType(r)
		}
	case immRefNull:
		var t byte
		if t, err = r.Byte(); err == nil && t != FuncRef && t != ExternRef {
			err = fmt.Errorf("%w: ref.null type 0x%02x", ErrUnsupported, t)
		}
	case immPrefixFC:
		err = decodeFC(r, &in)
	default:
		err = fmt.Errorf("%w: opcode %s", ErrUnsupported, OpName(in.Op))
	}
	in.End = uint32(r.Offset())
	return in, labels, err
}

func decodeFC(r *Reader, in *Instr) error {
	sub, err := r.U32()
	if err != nil {
		return err
	}
	if sub > 17 {
		return fmt.Errorf("%w: opcode 0xfc %d", ErrUnsupported, sub)
	}
	in.Op = Op(0xfc00 | sub)
	switch sub {
	case 0, 1, 2, 3, 4, 5, 6, 7: // saturating truncations
	case 8: // memory.init data, mem
		if in.Imm, err = r.U32(); err == nil {
			err = readZero(r)
		}
	case 9, 13, 15, 16, 17: // data.drop, elem.drop, table.grow/size/fill
		in.Imm, err = r.U32()
	case 10: // memory.copy
		if err = readZero(r); err == nil {
			err = readZero(r)
		}
	case 11: // memory.fill
		err = readZero(r)
	case 12, 14: // table.init elem table, table.copy dst src
		if in.Imm, err = r.U32(); err == nil {
			in.Imm2, err = r.U32()
		}
	}
	return err
}

func readZero(r *Reader) error {
	z, err := r.Byte()
	if err != nil {
		return err
	}
	if z != 0 {
		return fmt.Errorf("%w: memory index byte 0x%02x (multi-memory)", ErrUnsupported, z)
	}
	return nil
}

func readBlockType(r *Reader) (idx, form uint32, err error) {
	if r.off >= len(r.b) {
		return 0, 0, r.errf("unexpected end")
	}
	b := r.b[r.off]
	switch {
	case b == 0x40:
		r.off++
		return 0, BlockEmpty, nil
	case b == V128:
		return 0, 0, fmt.Errorf("%w: block type v128 (SIMD)", ErrUnsupported)
	case b >= 0x40 && b < 0x80: // negative single-byte s33: a value type
		r.off++
		return 0, BlockValue, CheckValType(b)
	}
	v, err := r.S33()
	if err != nil {
		return 0, 0, err
	}
	if v < 0 || v > 1<<32-1 {
		return 0, 0, fmt.Errorf("%w: block type %d", ErrMalformed, v)
	}
	return uint32(v), BlockIndex, nil
}
