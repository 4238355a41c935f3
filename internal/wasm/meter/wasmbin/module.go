// Package wasmbin decodes and encodes the WebAssembly binary format at the level the fuel
// instrumentation needs: the section list, the sections that hold function indices, and the
// instruction stream of code bodies.
//
// It is a decoder of untrusted bytes: every count and size is checked against the remaining
// input before anything is allocated, and no input makes it panic. It does not validate types
// (the engine does); it only rejects what it cannot decode. It does no I/O.
package wasmbin

import (
	"bytes"
	"errors"
	"fmt"
)

// Section ids.
const (
	SecCustom    byte = 0
	SecType      byte = 1
	SecImport    byte = 2
	SecFunction  byte = 3
	SecTable     byte = 4
	SecMemory    byte = 5
	SecGlobal    byte = 6
	SecExport    byte = 7
	SecStart     byte = 8
	SecElement   byte = 9
	SecCode      byte = 10
	SecData      byte = 11
	SecDataCount byte = 12
	SecTag       byte = 13
)

var (
	// ErrMalformed reports bytes that are not a well-formed WebAssembly binary.
	ErrMalformed = errors.New("malformed wasm binary")
	// ErrUnsupported reports a well-formed construct that the decoder refuses (a feature
	// outside wazero's CoreFeaturesV2, or one that breaks determinism).
	ErrUnsupported = errors.New("unsupported wasm feature")
)

var header = []byte{0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00}

// Section is one section of a module: its id, its name (custom sections only), and its
// payload (for a custom section, the bytes after the name).
type Section struct {
	ID      byte
	Name    string
	Payload []byte
}

// Module is a module as its ordered list of sections.
type Module struct {
	Sections []Section
}

// order gives each known non-custom section its rank in the required order.
var order = map[byte]int{
	SecType: 1, SecImport: 2, SecFunction: 3, SecTable: 4, SecMemory: 5, SecTag: 6,
	SecGlobal: 7, SecExport: 8, SecStart: 9, SecElement: 10, SecDataCount: 11,
	SecCode: 12, SecData: 13,
}

// Rank returns the ordering rank of a non-custom section id (0 if unknown or custom).
func Rank(id byte) int { return order[id] }

// Decode splits b into sections, checking the header, section sizes, unknown ids, duplicates
// and order. Payloads alias b.
func Decode(b []byte) (*Module, error) {
	if len(b) < len(header) || !bytes.Equal(b[:4], header[:4]) {
		return nil, fmt.Errorf("%w: missing \\0asm magic", ErrMalformed)
	}
	if !bytes.Equal(b[4:8], header[4:]) {
		return nil, fmt.Errorf("%w: version %x is not 1 (components and other layers are not modules)", ErrUnsupported, b[4:8])
	}
	r := NewReader(b[8:])
	m := &Module{}
	last := 0
	for r.Len() > 0 {
		id, err := r.Byte()
		if err != nil {
			return nil, err
		}
		size, err := r.U32()
		if err != nil {
			return nil, fmt.Errorf("section %d size: %w", id, err)
		}
		payload, err := r.Bytes(size)
		if err != nil {
			return nil, fmt.Errorf("section %d: %w", id, err)
		}
		s := Section{ID: id, Payload: payload}
		if id == SecCustom {
			pr := NewReader(payload)
			name, err := pr.Name()
			if err != nil {
				return nil, fmt.Errorf("custom section name: %w", err)
			}
			s.Name = name
			s.Payload = payload[pr.Offset():]
		} else {
			rank, ok := order[id]
			if !ok {
				return nil, fmt.Errorf("%w: unknown section id %d", ErrMalformed, id)
			}
			if rank <= last {
				return nil, fmt.Errorf("%w: section %d out of order or duplicated", ErrMalformed, id)
			}
			last = rank
		}
		m.Sections = append(m.Sections, s)
	}
	return m, nil
}

// Find returns the index of the non-custom section with the given id, or -1.
func (m *Module) Find(id byte) int {
	for i, s := range m.Sections {
		if s.ID == id && id != SecCustom {
			return i
		}
	}
	return -1
}

// Set replaces the payload of section id, inserting the section at its required position
// if it is absent.
func (m *Module) Set(id byte, payload []byte) {
	if i := m.Find(id); i >= 0 {
		m.Sections[i].Payload = payload
		return
	}
	rank := order[id]
	pos := len(m.Sections)
	for i, s := range m.Sections {
		if s.ID != SecCustom && order[s.ID] > rank {
			pos = i
			break
		}
	}
	m.Sections = append(m.Sections, Section{})
	copy(m.Sections[pos+1:], m.Sections[pos:])
	m.Sections[pos] = Section{ID: id, Payload: payload}
}

// Encode writes the module back to the binary format.
func (m *Module) Encode() []byte {
	n := len(header)
	for _, s := range m.Sections {
		n += 1 + 5 + len(s.Payload) + 5 + len(s.Name)
	}
	out := make([]byte, 0, n)
	out = append(out, header...)
	for _, s := range m.Sections {
		out = append(out, s.ID)
		if s.ID == SecCustom {
			name := AppendName(nil, s.Name)
			out = AppendU32(out, uint32(len(name)+len(s.Payload)))
			out = append(out, name...)
		} else {
			out = AppendU32(out, uint32(len(s.Payload)))
		}
		out = append(out, s.Payload...)
	}
	return out
}
