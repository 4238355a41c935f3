package wasmbin

import "fmt"

// Reader decodes LEB128 integers, bytes and names from a byte slice. It never panics:
// every read checks bounds and reports an error naming the offset.
type Reader struct {
	b   []byte
	off int
}

// NewReader returns a Reader over b.
func NewReader(b []byte) *Reader { return &Reader{b: b} }

// Offset is the position of the next unread byte.
func (r *Reader) Offset() int { return r.off }

// Len is the number of unread bytes.
func (r *Reader) Len() int { return len(r.b) - r.off }

// Byte reads one byte.
func (r *Reader) Byte() (byte, error) {
	if r.off >= len(r.b) {
		return 0, r.errf("unexpected end")
	}
	c := r.b[r.off]
	r.off++
	return c, nil
}

// Bytes reads n bytes, returning a subslice of the input (not a copy).
func (r *Reader) Bytes(n uint32) ([]byte, error) {
	if uint64(n) > uint64(r.Len()) {
		return nil, r.errf("length %d exceeds remaining %d bytes", n, r.Len())
	}
	s := r.b[r.off : r.off+int(n)]
	r.off += int(n)
	return s, nil
}

// U32 reads an unsigned LEB128 value of at most 32 bits (at most 5 bytes).
func (r *Reader) U32() (uint32, error) {
	var v uint32
	for i := 0; i < 5; i++ {
		c, err := r.Byte()
		if err != nil {
			return 0, err
		}
		if i == 4 && c&0xf0 != 0 {
			return 0, r.errf("u32 overflow")
		}
		v |= uint32(c&0x7f) << (7 * i)
		if c&0x80 == 0 {
			return v, nil
		}
	}
	return 0, r.errf("u32 too long")
}

// S32 reads a signed LEB128 value of at most 32 bits.
func (r *Reader) S32() (int32, error) {
	v, err := r.signed(32)
	return int32(v), err
}

// S33 reads a signed LEB128 value of at most 33 bits (block types).
func (r *Reader) S33() (int64, error) { return r.signed(33) }

// S64 reads a signed LEB128 value of at most 64 bits.
func (r *Reader) S64() (int64, error) { return r.signed(64) }

func (r *Reader) signed(bits int) (int64, error) {
	var v int64
	shift := 0
	maxBytes := (bits + 6) / 7
	for i := 0; i < maxBytes; i++ {
		c, err := r.Byte()
		if err != nil {
			return 0, err
		}
		v |= int64(c&0x7f) << shift
		shift += 7
		if c&0x80 == 0 {
			if i == maxBytes-1 {
				// The bits of the last byte above the value's sign bit must repeat it. Like
				// wazero, bit 6 is not checked (the spec would reject more, never less).
				used := bits - 7*(maxBytes-1)    // value bits carried by this byte
				rest := int8(c<<2) >> (used + 1) // bits used-1 .. 5, sign-extended
				if rest != 0 && rest != -1 {
					return 0, r.errf("s%d overflow", bits)
				}
			}
			if shift < 64 {
				v = v << (64 - shift) >> (64 - shift) // sign-extend from the last byte's bit 6
			}
			if bits < 64 {
				v = v << (64 - bits) >> (64 - bits) // then from the value's own sign bit
			}
			return v, nil
		}
	}
	return 0, r.errf("s%d too long", bits)
}

// Name reads a length-prefixed UTF-8 name (validity of UTF-8 is left to the engine).
func (r *Reader) Name() (string, error) {
	n, err := r.U32()
	if err != nil {
		return "", err
	}
	b, err := r.Bytes(n)
	return string(b), err
}

// Count reads a vector length and checks that at least minSize bytes per element remain,
// so that a hostile count cannot cause a huge allocation.
func (r *Reader) Count(minSize int) (uint32, error) {
	n, err := r.U32()
	if err != nil {
		return 0, err
	}
	if minSize > 0 && uint64(n)*uint64(minSize) > uint64(r.Len()) {
		return 0, r.errf("count %d exceeds remaining %d bytes", n, r.Len())
	}
	return n, nil
}

func (r *Reader) errf(format string, args ...any) error {
	return fmt.Errorf("%w: at offset %d: %s", ErrMalformed, r.off, fmt.Sprintf(format, args...))
}

// AppendU32 appends v as minimal unsigned LEB128.
func AppendU32(b []byte, v uint32) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v == 0 {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}

// AppendS64 appends v as minimal signed LEB128 (also valid for s32/s33 ranges).
func AppendS64(b []byte, v int64) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if (v == 0 && c&0x40 == 0) || (v == -1 && c&0x40 != 0) {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}

// AppendName appends a length-prefixed name.
func AppendName(b []byte, s string) []byte {
	b = AppendU32(b, uint32(len(s)))
	return append(b, s...)
}
