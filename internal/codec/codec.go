// Package codec is ONVM's canonical binary encoding: deterministic CBOR
// (RFC 8949 §4.2 core deterministic encoding) with strict, bounded decoding.
//
// Everything that is hashed, signed or sent between peers goes through this
// package, so that the same value always has the same bytes and a decoder of
// untrusted input can neither be made to allocate without bound nor to accept
// two encodings of one value. It does no I/O.
package codec

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/fxamacker/cbor/v2"
)

// MaxSize is the largest encoding Unmarshal accepts. Callers with tighter
// limits (a gossip message, a vertex) check them before calling.
const MaxSize = 64 << 20

// ErrNotCanonical reports bytes that decode but are not the canonical
// encoding of what they decode to.
var ErrNotCanonical = errors.New("codec: not the canonical encoding")

// ErrTooLarge reports input larger than MaxSize.
var ErrTooLarge = errors.New("codec: input too large")

var (
	encMode cbor.EncMode
	decMode cbor.DecMode
)

func init() {
	var err error
	eo := cbor.CoreDetEncOptions()
	eo.Time = cbor.TimeUnix
	encMode, err = eo.EncMode()
	if err != nil {
		panic(err)
	}
	decMode, err = cbor.DecOptions{
		DupMapKey:         cbor.DupMapKeyEnforcedAPF,
		IndefLength:       cbor.IndefLengthForbidden,
		TagsMd:            cbor.TagsForbidden,
		MaxNestedLevels:   16,
		MaxArrayElements:  1 << 20,
		MaxMapPairs:       1 << 16,
		ExtraReturnErrors: cbor.ExtraDecErrorUnknownField,
		UTF8:              cbor.UTF8RejectInvalid,
	}.DecMode()
	if err != nil {
		panic(err)
	}
}

// Marshal returns the canonical encoding of v.
func Marshal(v any) ([]byte, error) {
	b, err := encMode.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("codec: encode %T: %w", v, err)
	}
	return b, nil
}

// MustMarshal is Marshal for values whose encoding cannot fail (fixed Go
// types with no interface fields); it panics otherwise.
func MustMarshal(v any) []byte {
	b, err := Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// Unmarshal decodes data into v strictly: no trailing bytes, no unknown
// fields, no duplicate map keys, no indefinite lengths, no tags, bounded
// sizes, and data must be exactly the canonical encoding of the result.
func Unmarshal(data []byte, v any) error {
	if len(data) > MaxSize {
		return fmt.Errorf("%w: %d bytes", ErrTooLarge, len(data))
	}
	if err := decMode.Unmarshal(data, v); err != nil {
		return fmt.Errorf("codec: decode %T: %w", v, err)
	}
	again, err := encMode.Marshal(v)
	if err != nil {
		return fmt.Errorf("codec: re-encode %T: %w", v, err)
	}
	if !bytes.Equal(again, data) {
		return fmt.Errorf("%w (%T)", ErrNotCanonical, v)
	}
	return nil
}
