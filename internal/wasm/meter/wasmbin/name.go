package wasmbin

import (
	"fmt"
	"unicode/utf8"
)

// RewriteNames parses a "name" custom section payload exactly and re-encodes it with every
// function index (in the function-names, local-names and label-names subsections) passed
// through fn, which must be increasing so that the name maps stay sorted. Other subsections
// are copied unchanged.
//
// Exactly means: subsections appear at most once each, in increasing id order; the module
// name, function-names and local-names subsections (the ones engines read, and read by their
// contents rather than by their declared sizes) hold exactly what their size says, with valid
// UTF-8 names; every name map's indices are strictly increasing; and every function index is
// below funcs. A section that passes is read the same way by any decoder, so its re-encoding
// means the same; anything else is an error wrapping ErrMalformed, and the caller should drop
// the section rather than trust it.
func RewriteNames(p []byte, fn func(uint32) uint32, funcs uint32) ([]byte, error) {
	r := NewReader(p)
	out := make([]byte, 0, len(p)+16)
	last := -1
	for r.Len() > 0 {
		id, err := r.Byte()
		if err != nil {
			return nil, err
		}
		if int(id) <= last {
			return nil, fmt.Errorf("%w: name subsection %d after subsection %d", ErrMalformed, id, last)
		}
		last = int(id)
		size, err := r.U32()
		if err != nil {
			return nil, err
		}
		sub, err := r.Bytes(size)
		if err != nil {
			return nil, err
		}
		switch id {
		case 0:
			sub, err = checkModuleName(NewReader(sub))
		case 1:
			sub, err = rewriteNameMap(NewReader(sub), fn, funcs, false)
		case 2, 3:
			sub, err = rewriteNameMap(NewReader(sub), fn, funcs, true)
		}
		if err != nil {
			return nil, fmt.Errorf("name subsection %d: %w", id, err)
		}
		out = append(out, id)
		out = AppendU32(out, uint32(len(sub)))
		out = append(out, sub...)
	}
	return out, nil
}

func checkModuleName(r *Reader) ([]byte, error) {
	if _, err := utf8Name(r); err != nil {
		return nil, err
	}
	return r.b, trailing(r, "module name")
}

// utf8Name reads a name and checks that it is valid UTF-8.
func utf8Name(r *Reader) (string, error) {
	s, err := r.Name()
	if err == nil && !utf8.ValidString(s) {
		err = r.errf("name is not valid UTF-8")
	}
	return s, err
}

// rewriteNameMap rewrites a name map (idx name)* or, if indirect, an indirect name map
// (idx namemap)* whose outer index is a function index.
func rewriteNameMap(r *Reader, fn func(uint32) uint32, funcs uint32, indirect bool) ([]byte, error) {
	n, err := r.Count(2)
	if err != nil {
		return nil, err
	}
	out := AppendU32(make([]byte, 0, r.Len()+16), n)
	var prev uint32
	for i := uint32(0); i < n; i++ {
		idx, err := r.U32()
		if err != nil {
			return nil, err
		}
		if idx >= funcs {
			return nil, r.errf("function %d of %d", idx, funcs)
		}
		if i > 0 && idx <= prev {
			return nil, r.errf("function %d out of order", idx)
		}
		out = AppendU32(out, fn(idx))
		start := r.Offset()
		if indirect {
			if err := checkNameMap(r); err != nil {
				return nil, err
			}
		} else if _, err := utf8Name(r); err != nil {
			return nil, err
		}
		out = append(out, r.b[start:r.Offset()]...)
		prev = idx
	}
	return out, trailing(r, "name")
}

// checkNameMap reads a name map (idx name)* with strictly increasing indices.
func checkNameMap(r *Reader) error {
	m, err := r.Count(2)
	if err != nil {
		return err
	}
	var prev uint32
	for j := uint32(0); j < m; j++ {
		idx, err := r.U32()
		if err != nil {
			return err
		}
		if j > 0 && idx <= prev {
			return r.errf("index %d out of order", idx)
		}
		prev = idx
		if _, err := utf8Name(r); err != nil {
			return err
		}
	}
	return nil
}
