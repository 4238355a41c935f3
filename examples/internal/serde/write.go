package serde

import (
	"math"
	"strconv"
)

// Obj builds a compact JSON object with fields in call order.
type Obj struct{ b []byte }

func (o *Obj) key(k string) {
	if len(o.b) == 0 {
		o.b = append(o.b, '{')
	} else {
		o.b = append(o.b, ',')
	}
	o.b = AppendString(o.b, k)
	o.b = append(o.b, ':')
}

// Str adds a string field.
func (o *Obj) Str(k, v string) *Obj { o.key(k); o.b = AppendString(o.b, v); return o }

// Uint adds an unsigned integer field.
func (o *Obj) Uint(k string, v uint64) *Obj { o.key(k); o.b = strconv.AppendUint(o.b, v, 10); return o }

// Float adds an f64 field.
func (o *Obj) Float(k string, v float64) *Obj { o.key(k); o.b = AppendFloat(o.b, v); return o }

// Null adds a null field.
func (o *Obj) Null(k string) *Obj { o.key(k); o.b = append(o.b, "null"...); return o }

// Raw adds a field whose value is already encoded JSON.
func (o *Obj) Raw(k string, v []byte) *Obj { o.key(k); o.b = append(o.b, v...); return o }

// Bytes returns the encoded object.
func (o *Obj) Bytes() []byte {
	if len(o.b) == 0 {
		return []byte("{}")
	}
	return append(o.b, '}')
}

const hexDigits = "0123456789abcdef"

// AppendString appends s as a JSON string escaped like serde_json: '"',
// '\\', and the control characters below 0x20 (as \b \t \n \f \r or
// \u00xx); everything else, including non-ASCII, is copied as is.
func AppendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		dst = append(dst, s[start:i]...)
		switch c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		case '\b':
			dst = append(dst, '\\', 'b')
		case '\t':
			dst = append(dst, '\\', 't')
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\f':
			dst = append(dst, '\\', 'f')
		case '\r':
			dst = append(dst, '\\', 'r')
		default:
			dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
		}
		start = i + 1
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// AppendFloat appends f as serde_json writes an f64: non-finite values as
// null, others in ryu's shortest round-trip form.
func AppendFloat(dst []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(dst, "null"...)
	}
	return appendFloat(dst, f, false)
}

// appendFloat formats a finite f like ryu::Buffer::format_finite. Serde's
// Unexpected::Float display differs only for exponents, which it never
// abbreviates; unexpected selects that form.
func appendFloat(dst []byte, f float64, unexpected bool) []byte {
	if math.Signbit(f) {
		dst = append(dst, '-')
		f = -f
	}
	if f == 0 {
		return append(dst, "0.0"...)
	}
	// Shortest digits d1d2...dn and exponent e with f = 0.d1...dn × 10^kk.
	e := strconv.AppendFloat(nil, f, 'e', -1, 64) // d.ddde±xx
	var digits []byte
	i := 0
	for ; e[i] != 'e'; i++ {
		if e[i] != '.' {
			digits = append(digits, e[i])
		}
	}
	exp, _ := strconv.Atoi(string(e[i+1:]))
	n := len(digits)
	kk := exp + 1 // position of the decimal point
	k := kk - n   // f = digits × 10^k
	switch {
	case 0 <= k && kk <= 16 || unexpected && k >= 0:
		dst = append(dst, digits...)
		for range k {
			dst = append(dst, '0')
		}
		return append(dst, '.', '0')
	case 0 < kk && kk <= 16 || unexpected && kk > 0:
		dst = append(dst, digits[:kk]...)
		dst = append(dst, '.')
		return append(dst, digits[kk:]...)
	case -5 < kk && kk <= 0 || unexpected:
		dst = append(dst, '0', '.')
		for range -kk {
			dst = append(dst, '0')
		}
		return append(dst, digits...)
	case n == 1:
		dst = append(dst, digits[0], 'e')
		return strconv.AppendInt(dst, int64(kk-1), 10)
	default:
		dst = append(dst, digits[0], '.')
		dst = append(dst, digits[1:]...)
		dst = append(dst, 'e')
		return strconv.AppendInt(dst, int64(kk-1), 10)
	}
}
