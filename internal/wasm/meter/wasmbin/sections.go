package wasmbin

import "fmt"

// Value types accepted by the decoder (CoreFeaturesV2 without SIMD).
const (
	I32       byte = 0x7f
	I64       byte = 0x7e
	F32       byte = 0x7d
	F64       byte = 0x7c
	V128      byte = 0x7b
	FuncRef   byte = 0x70
	ExternRef byte = 0x6f
)

// Import and export kinds.
const (
	KindFunc   byte = 0
	KindTable  byte = 1
	KindMemory byte = 2
	KindGlobal byte = 3
	KindTag    byte = 4
)

// CheckValType reports whether t is a value type this decoder supports.
func CheckValType(t byte) error {
	switch t {
	case I32, I64, F32, F64, FuncRef, ExternRef:
		return nil
	case V128:
		return fmt.Errorf("%w: value type v128 (SIMD)", ErrUnsupported)
	}
	return fmt.Errorf("%w: value type 0x%02x (not in CoreFeaturesV2)", ErrUnsupported, t)
}

func readValType(r *Reader) (byte, error) {
	t, err := r.Byte()
	if err != nil {
		return 0, err
	}
	return t, CheckValType(t)
}

func readValTypes(r *Reader) ([]byte, error) {
	n, err := r.Count(1)
	if err != nil {
		return nil, err
	}
	ts := make([]byte, n)
	for i := range ts {
		if ts[i], err = readValType(r); err != nil {
			return nil, err
		}
	}
	return ts, nil
}

// FuncType is a function signature.
type FuncType struct {
	Params, Results []byte
}

// DecodeTypes decodes the type section.
func DecodeTypes(p []byte) ([]FuncType, error) {
	r := NewReader(p)
	n, err := r.Count(3)
	if err != nil {
		return nil, err
	}
	ts := make([]FuncType, n)
	for i := range ts {
		form, err := r.Byte()
		if err != nil {
			return nil, err
		}
		if form != 0x60 {
			return nil, fmt.Errorf("%w: type %d has form 0x%02x (GC types are not supported)", ErrUnsupported, i, form)
		}
		if ts[i].Params, err = readValTypes(r); err != nil {
			return nil, fmt.Errorf("type %d params: %w", i, err)
		}
		if ts[i].Results, err = readValTypes(r); err != nil {
			return nil, fmt.Errorf("type %d results: %w", i, err)
		}
	}
	return ts, trailing(r, "type")
}

// EncodeTypes encodes the type section.
func EncodeTypes(ts []FuncType) []byte {
	b := AppendU32(nil, uint32(len(ts)))
	for _, t := range ts {
		b = append(b, 0x60)
		b = AppendU32(b, uint32(len(t.Params)))
		b = append(b, t.Params...)
		b = AppendU32(b, uint32(len(t.Results)))
		b = append(b, t.Results...)
	}
	return b
}

// Import is one import. Desc holds the raw descriptor after the kind byte.
type Import struct {
	Module, Name string
	Kind         byte
	Desc         []byte
	TypeIdx      uint32 // for KindFunc
}

// DecodeImports decodes the import section, rejecting tag imports, shared or 64-bit memories.
func DecodeImports(p []byte) ([]Import, error) {
	r := NewReader(p)
	n, err := r.Count(4)
	if err != nil {
		return nil, err
	}
	is := make([]Import, n)
	for i := range is {
		im := &is[i]
		if im.Module, err = r.Name(); err != nil {
			return nil, err
		}
		if im.Name, err = r.Name(); err != nil {
			return nil, err
		}
		if im.Kind, err = r.Byte(); err != nil {
			return nil, err
		}
		start := r.Offset()
		switch im.Kind {
		case KindFunc:
			im.TypeIdx, err = r.U32()
		case KindTable:
			err = readTableType(r)
		case KindMemory:
			err = readLimits(r, true)
		case KindGlobal:
			if _, err = readValType(r); err == nil {
				err = readMut(r)
			}
		case KindTag:
			err = fmt.Errorf("%w: tag import (exceptions)", ErrUnsupported)
		default:
			err = fmt.Errorf("%w: import kind 0x%02x", ErrMalformed, im.Kind)
		}
		if err != nil {
			return nil, fmt.Errorf("import %d %q.%q: %w", i, im.Module, im.Name, err)
		}
		im.Desc = p[start:r.Offset()]
	}
	return is, trailing(r, "import")
}

// EncodeImports encodes the import section.
func EncodeImports(is []Import) []byte {
	b := AppendU32(nil, uint32(len(is)))
	for _, im := range is {
		b = AppendName(b, im.Module)
		b = AppendName(b, im.Name)
		b = append(b, im.Kind)
		b = append(b, im.Desc...)
	}
	return b
}

func readMut(r *Reader) error {
	m, err := r.Byte()
	if err != nil {
		return err
	}
	if m > 1 {
		return fmt.Errorf("%w: global mutability 0x%02x", ErrMalformed, m)
	}
	return nil
}

func readLimits(r *Reader, memory bool) error {
	flag, err := r.Byte()
	if err != nil {
		return err
	}
	switch flag {
	case 0x00:
		_, err = r.U32()
		return err
	case 0x01:
		if _, err = r.U32(); err != nil {
			return err
		}
		_, err = r.U32()
		return err
	case 0x02, 0x03:
		if memory {
			return fmt.Errorf("%w: shared memory (threads)", ErrUnsupported)
		}
	case 0x04, 0x05, 0x06, 0x07:
		return fmt.Errorf("%w: 64-bit memory or table (memory64)", ErrUnsupported)
	}
	return fmt.Errorf("%w: limits flag 0x%02x", ErrMalformed, flag)
}

func readTableType(r *Reader) error {
	t, err := r.Byte()
	if err != nil {
		return err
	}
	if t != FuncRef && t != ExternRef {
		return fmt.Errorf("%w: table element type 0x%02x", ErrUnsupported, t)
	}
	return readLimits(r, false)
}

// CountTables checks the table section and returns the number of tables.
func CountTables(p []byte) (uint32, error) {
	r := NewReader(p)
	n, err := r.Count(3)
	if err != nil {
		return 0, err
	}
	for i := uint32(0); i < n; i++ {
		if err := readTableType(r); err != nil {
			return 0, fmt.Errorf("table %d: %w", i, err)
		}
	}
	return n, trailing(r, "table")
}

// CountMemories checks the memory section and returns the number of memories.
func CountMemories(p []byte) (uint32, error) {
	r := NewReader(p)
	n, err := r.Count(2)
	if err != nil {
		return 0, err
	}
	for i := uint32(0); i < n; i++ {
		if err := readLimits(r, true); err != nil {
			return 0, fmt.Errorf("memory %d: %w", i, err)
		}
	}
	return n, trailing(r, "memory")
}

// DecodeFunctions decodes the function section (one type index per defined function).
func DecodeFunctions(p []byte) ([]uint32, error) {
	r := NewReader(p)
	n, err := r.Count(1)
	if err != nil {
		return nil, err
	}
	fs := make([]uint32, n)
	for i := range fs {
		if fs[i], err = r.U32(); err != nil {
			return nil, err
		}
	}
	return fs, trailing(r, "function")
}

// Global is one defined global. Init is its constant expression including the final end.
type Global struct {
	Type    byte
	Mutable bool
	Init    []byte
}

// DecodeGlobals decodes the global section.
func DecodeGlobals(p []byte) ([]Global, error) {
	r := NewReader(p)
	n, err := r.Count(4)
	if err != nil {
		return nil, err
	}
	gs := make([]Global, n)
	for i := range gs {
		g := &gs[i]
		if g.Type, err = readValType(r); err != nil {
			return nil, fmt.Errorf("global %d: %w", i, err)
		}
		m, err := r.Byte()
		if err != nil {
			return nil, err
		}
		if m > 1 {
			return nil, fmt.Errorf("%w: global %d mutability 0x%02x", ErrMalformed, i, m)
		}
		g.Mutable = m == 1
		if g.Init, err = readConstExpr(r); err != nil {
			return nil, fmt.Errorf("global %d init: %w", i, err)
		}
	}
	return gs, trailing(r, "global")
}

// EncodeGlobals encodes the global section.
func EncodeGlobals(gs []Global) []byte {
	b := AppendU32(nil, uint32(len(gs)))
	for _, g := range gs {
		b = append(b, g.Type)
		if g.Mutable {
			b = append(b, 1)
		} else {
			b = append(b, 0)
		}
		b = append(b, g.Init...)
	}
	return b
}

// Export is one export.
type Export struct {
	Name  string
	Kind  byte
	Index uint32
}

// DecodeExports decodes the export section.
func DecodeExports(p []byte) ([]Export, error) {
	r := NewReader(p)
	n, err := r.Count(3)
	if err != nil {
		return nil, err
	}
	es := make([]Export, n)
	for i := range es {
		e := &es[i]
		if e.Name, err = r.Name(); err != nil {
			return nil, err
		}
		if e.Kind, err = r.Byte(); err != nil {
			return nil, err
		}
		if e.Kind > KindGlobal {
			return nil, fmt.Errorf("%w: export %q kind 0x%02x", ErrUnsupported, e.Name, e.Kind)
		}
		if e.Index, err = r.U32(); err != nil {
			return nil, err
		}
	}
	return es, trailing(r, "export")
}

// EncodeExports encodes the export section.
func EncodeExports(es []Export) []byte {
	b := AppendU32(nil, uint32(len(es)))
	for _, e := range es {
		b = AppendName(b, e.Name)
		b = append(b, e.Kind)
		b = AppendU32(b, e.Index)
	}
	return b
}

// DecodeStart decodes the start section.
func DecodeStart(p []byte) (uint32, error) {
	r := NewReader(p)
	f, err := r.U32()
	if err != nil {
		return 0, err
	}
	return f, trailing(r, "start")
}

// DecodeCode splits the code section into function bodies (each without its size prefix).
func DecodeCode(p []byte) ([][]byte, error) {
	r := NewReader(p)
	n, err := r.Count(2)
	if err != nil {
		return nil, err
	}
	bodies := make([][]byte, n)
	for i := range bodies {
		size, err := r.U32()
		if err != nil {
			return nil, fmt.Errorf("code %d size: %w", i, err)
		}
		if bodies[i], err = r.Bytes(size); err != nil {
			return nil, fmt.Errorf("code %d: %w", i, err)
		}
	}
	return bodies, trailing(r, "code")
}

// EncodeCode encodes function bodies as a code section.
func EncodeCode(bodies [][]byte) []byte {
	n := 5
	for _, b := range bodies {
		n += 5 + len(b)
	}
	out := AppendU32(make([]byte, 0, n), uint32(len(bodies)))
	for _, b := range bodies {
		out = AppendU32(out, uint32(len(b)))
		out = append(out, b...)
	}
	return out
}

func trailing(r *Reader, what string) error {
	if r.Len() != 0 {
		return fmt.Errorf("%w: %d trailing bytes in %s section", ErrMalformed, r.Len(), what)
	}
	return nil
}

// DataSegment is one data segment. Offset is the constant expression of an active segment
// (including its end), nil for a passive one; Init aliases the decoded bytes.
type DataSegment struct {
	Offset []byte
	Init   []byte
}

// Passive reports whether the segment is passive (applied only by memory.init).
func (d DataSegment) Passive() bool { return d.Offset == nil }

// DecodeData decodes the data section.
func DecodeData(p []byte) ([]DataSegment, error) {
	r := NewReader(p)
	n, err := r.Count(2)
	if err != nil {
		return nil, err
	}
	ds := make([]DataSegment, n)
	for i := range ds {
		flags, err := r.U32()
		if err != nil {
			return nil, err
		}
		switch flags {
		case 0:
			ds[i].Offset, err = readConstExpr(r)
		case 1:
		case 2:
			var mem uint32
			if mem, err = r.U32(); err == nil && mem != 0 {
				err = fmt.Errorf("%w: data segment for memory %d (multi-memory)", ErrUnsupported, mem)
			}
			if err == nil {
				ds[i].Offset, err = readConstExpr(r)
			}
		default:
			err = fmt.Errorf("%w: data segment flags %d", ErrMalformed, flags)
		}
		if err != nil {
			return nil, fmt.Errorf("data segment %d: %w", i, err)
		}
		size, err := r.U32()
		if err != nil {
			return nil, err
		}
		if ds[i].Init, err = r.Bytes(size); err != nil {
			return nil, fmt.Errorf("data segment %d: %w", i, err)
		}
	}
	return ds, trailing(r, "data")
}

// CheckData checks the data section and returns the number of segments.
func CheckData(p []byte) (uint32, error) {
	ds, err := DecodeData(p)
	return uint32(len(ds)), err
}

// I32ConstExpr returns the value of a constant expression that is exactly
// "i32.const v; end", and whether it is one.
func I32ConstExpr(expr []byte) (int32, bool) {
	r := NewReader(expr)
	if op, err := r.Byte(); err != nil || op != 0x41 {
		return 0, false
	}
	v, err := r.S32()
	if err != nil {
		return 0, false
	}
	end, err := r.Byte()
	return v, err == nil && end == 0x0b && r.Len() == 0
}

// MemoryMins decodes the memory section and returns each memory's minimum size in pages.
func MemoryMins(p []byte) ([]uint32, error) {
	r := NewReader(p)
	n, err := r.Count(2)
	if err != nil {
		return nil, err
	}
	mins := make([]uint32, n)
	for i := range mins {
		start := r.Offset()
		if err := readLimits(r, true); err != nil {
			return nil, fmt.Errorf("memory %d: %w", i, err)
		}
		lr := NewReader(p[start+1 : r.Offset()]) // after the flag byte
		if mins[i], err = lr.U32(); err != nil {
			return nil, err
		}
	}
	return mins, trailing(r, "memory")
}

// CapTables re-encodes the table section with every table's maximum at most max elements
// (a table without a maximum gets max). A table whose minimum exceeds max is an error
// wrapping ErrUnsupported.
func CapTables(p []byte, max uint32) ([]byte, error) {
	r := NewReader(p)
	n, err := r.Count(3)
	if err != nil {
		return nil, err
	}
	out := AppendU32(make([]byte, 0, len(p)+8*int(n)), n)
	for i := uint32(0); i < n; i++ {
		start := r.Offset()
		if err := readTableType(r); err != nil {
			return nil, fmt.Errorf("table %d: %w", i, err)
		}
		t := NewReader(r.b[start:r.Offset()])
		ref, _ := t.Byte()
		flag, _ := t.Byte()
		lo, _ := t.U32()
		hi := max
		if flag == 0x01 {
			if declared, _ := t.U32(); declared < hi {
				hi = declared
			}
		}
		if lo > max {
			return nil, fmt.Errorf("%w: table %d has %d elements, the limit is %d", ErrUnsupported, i, lo, max)
		}
		if hi < lo { // invalid limits: keep them invalid for the engine to refuse
			hi = lo - 1
		}
		out = AppendU32(AppendU32(append(out, ref, 0x01), lo), hi)
	}
	return out, trailing(r, "table")
}
