package wasmbin

// RewriteNames re-encodes a "name" custom section payload with every function index (in the
// function-names, local-names and label-names subsections) passed through fn, which must be
// increasing so that the name maps stay sorted. Other subsections are copied unchanged.
func RewriteNames(p []byte, fn func(uint32) uint32) ([]byte, error) {
	r := NewReader(p)
	out := make([]byte, 0, len(p)+16)
	for r.Len() > 0 {
		id, err := r.Byte()
		if err != nil {
			return nil, err
		}
		size, err := r.U32()
		if err != nil {
			return nil, err
		}
		sub, err := r.Bytes(size)
		if err != nil {
			return nil, err
		}
		switch id {
		case 1:
			sub, err = rewriteNameMap(NewReader(sub), fn, false)
		case 2, 3:
			sub, err = rewriteNameMap(NewReader(sub), fn, true)
		}
		if err != nil {
			return nil, err
		}
		out = append(out, id)
		out = AppendU32(out, uint32(len(sub)))
		out = append(out, sub...)
	}
	return out, nil
}

// rewriteNameMap rewrites a name map (idx name)* or, if indirect, an indirect name map
// (idx namemap)* whose outer index is a function index.
func rewriteNameMap(r *Reader, fn func(uint32) uint32, indirect bool) ([]byte, error) {
	n, err := r.Count(2)
	if err != nil {
		return nil, err
	}
	out := AppendU32(make([]byte, 0, r.Len()+16), n)
	for i := uint32(0); i < n; i++ {
		idx, err := r.U32()
		if err != nil {
			return nil, err
		}
		out = AppendU32(out, fn(idx))
		start := r.Offset()
		if indirect {
			m, err := r.Count(2)
			if err != nil {
				return nil, err
			}
			for j := uint32(0); j < m; j++ {
				if _, err := r.U32(); err != nil {
					return nil, err
				}
				if _, err := r.Name(); err != nil {
					return nil, err
				}
			}
		} else if _, err := r.Name(); err != nil {
			return nil, err
		}
		out = append(out, r.b[start:r.Offset()]...)
	}
	return out, trailing(r, "name")
}
