package wasmbin

import "fmt"

// readConstExpr reads a constant expression up to and including its end opcode and returns
// its raw bytes.
func readConstExpr(r *Reader) ([]byte, error) {
	start := r.Offset()
	for {
		op, err := r.Byte()
		if err != nil {
			return nil, err
		}
		switch op {
		case 0x0b:
			return r.b[start:r.Offset()], nil
		case 0x41:
			_, err = r.S32()
		case 0x42:
			_, err = r.S64()
		case 0x43:
			_, err = r.Bytes(4)
		case 0x44:
			_, err = r.Bytes(8)
		case 0x23, 0xd2:
			_, err = r.U32()
		case 0xd0:
			var t byte
			if t, err = r.Byte(); err == nil && t != FuncRef && t != ExternRef {
				err = fmt.Errorf("%w: ref.null type 0x%02x", ErrUnsupported, t)
			}
		case 0x6a, 0x6b, 0x6c, 0x7c, 0x7d, 0x7e: // extended-const arithmetic; the engine decides
		case 0xfd:
			err = fmt.Errorf("%w: SIMD (0xfd) in constant expression", ErrUnsupported)
		default:
			err = fmt.Errorf("%w: opcode 0x%02x in constant expression", ErrUnsupported, op)
		}
		if err != nil {
			return nil, err
		}
	}
}

// RewriteConstExpr returns expr with every ref.func index passed through fn. expr must have
// been produced by the decoder.
func RewriteConstExpr(expr []byte, fn func(uint32) uint32) ([]byte, error) {
	r := NewReader(expr)
	out := make([]byte, 0, len(expr)+2)
	for r.Len() > 0 {
		start := r.Offset()
		op, err := r.Byte()
		if err != nil {
			return nil, err
		}
		if op == 0xd2 {
			f, err := r.U32()
			if err != nil {
				return nil, err
			}
			out = AppendU32(append(out, 0xd2), fn(f))
			continue
		}
		sub := NewReader(expr[start:])
		if _, err := readConstExprOne(sub); err != nil {
			return nil, err
		}
		r.off = start + sub.Offset()
		out = append(out, expr[start:r.off]...)
	}
	return out, nil
}

// readConstExprOne reads a single constant-expression instruction.
func readConstExprOne(r *Reader) (byte, error) {
	op, err := r.Byte()
	if err != nil {
		return 0, err
	}
	switch op {
	case 0x41:
		_, err = r.S32()
	case 0x42:
		_, err = r.S64()
	case 0x43:
		_, err = r.Bytes(4)
	case 0x44:
		_, err = r.Bytes(8)
	case 0x23, 0xd2:
		_, err = r.U32()
	case 0xd0:
		_, err = r.Byte()
	}
	return op, err
}

// RewriteElements re-encodes the element section with every function index (in function
// index vectors and in ref.func expressions) passed through fn.
func RewriteElements(p []byte, fn func(uint32) uint32) ([]byte, error) {
	r := NewReader(p)
	n, err := r.Count(2)
	if err != nil {
		return nil, err
	}
	out := AppendU32(make([]byte, 0, len(p)+len(p)/4+8), n)
	for i := uint32(0); i < n; i++ {
		if out, err = rewriteElement(r, out, fn); err != nil {
			return nil, fmt.Errorf("element segment %d: %w", i, err)
		}
	}
	return out, trailing(r, "element")
}

func rewriteElement(r *Reader, out []byte, fn func(uint32) uint32) ([]byte, error) {
	flags, err := r.U32()
	if err != nil {
		return nil, err
	}
	if flags > 7 {
		return nil, fmt.Errorf("%w: element segment flags %d", ErrMalformed, flags)
	}
	out = AppendU32(out, flags)
	start := r.Offset()
	// Table index (flags 2, 6).
	if flags&2 != 0 && flags&1 == 0 {
		if _, err := r.U32(); err != nil {
			return nil, err
		}
	}
	// Offset expression (active: flags 0, 2, 4, 6).
	if flags&1 == 0 {
		if _, err := readConstExpr(r); err != nil {
			return nil, err
		}
	}
	// Element kind (0x00 = funcref) or reference type, except flags 0 and 4.
	if flags&3 != 0 {
		k, err := r.Byte()
		if err != nil {
			return nil, err
		}
		if flags&4 == 0 && k != 0x00 {
			return nil, fmt.Errorf("%w: element kind 0x%02x", ErrMalformed, k)
		}
		if flags&4 != 0 && k != FuncRef && k != ExternRef {
			return nil, fmt.Errorf("%w: element reference type 0x%02x", ErrUnsupported, k)
		}
	}
	out = append(out, r.b[start:r.Offset()]...)
	count, err := r.Count(1)
	if err != nil {
		return nil, err
	}
	out = AppendU32(out, count)
	for j := uint32(0); j < count; j++ {
		if flags&4 == 0 {
			f, err := r.U32()
			if err != nil {
				return nil, err
			}
			out = AppendU32(out, fn(f))
			continue
		}
		expr, err := readConstExpr(r)
		if err != nil {
			return nil, err
		}
		re, err := RewriteConstExpr(expr, fn)
		if err != nil {
			return nil, err
		}
		out = append(out, re...)
	}
	return out, nil
}
