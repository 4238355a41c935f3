package wasmbin

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// FuzzDecode: decoding never panics, and a decoded module re-encodes to bytes that decode
// to the same sections; every section decoder and the instruction decoder never panic.
func FuzzDecode(f *testing.F) {
	files, _ := filepath.Glob("../testdata/*.wasm")
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Decode(b)
		if err != nil {
			return
		}
		m2, err := Decode(m.Encode())
		if err != nil {
			t.Fatalf("re-encoded module does not decode: %v", err)
		}
		if len(m2.Sections) != len(m.Sections) {
			t.Fatalf("%d sections, then %d", len(m.Sections), len(m2.Sections))
		}
		for i, s := range m.Sections {
			s2 := m2.Sections[i]
			if s.ID != s2.ID || s.Name != s2.Name || !bytes.Equal(s.Payload, s2.Payload) {
				t.Fatalf("section %d changed", i)
			}
			exercise(s)
		}
	})
}

// exercise runs the decoder of a section on its payload.
func exercise(s Section) {
	id := func(f uint32) uint32 { return f + 1 }
	switch s.ID {
	case SecType:
		_, _ = DecodeTypes(s.Payload)
	case SecImport:
		_, _ = DecodeImports(s.Payload)
	case SecFunction:
		_, _ = DecodeFunctions(s.Payload)
	case SecTable:
		_, _ = CountTables(s.Payload)
	case SecMemory:
		_, _ = CountMemories(s.Payload)
		_, _ = MemoryMins(s.Payload)
	case SecGlobal:
		_, _ = DecodeGlobals(s.Payload)
	case SecExport:
		_, _ = DecodeExports(s.Payload)
	case SecStart:
		_, _ = DecodeStart(s.Payload)
	case SecElement:
		_, _ = RewriteElements(s.Payload, id)
	case SecData:
		ds, _ := DecodeData(s.Payload)
		for _, d := range ds {
			_, _ = I32ConstExpr(d.Offset)
		}
	case SecCustom:
		_, _ = RewriteNames(s.Payload, id, 1<<20)
	case SecCode:
		bodies, _ := DecodeCode(s.Payload)
		for _, body := range bodies {
			r := NewReader(body)
			var labels []uint32
			for r.Len() > 0 {
				var err error
				if _, labels, err = DecodeInstr(r, labels[:0]); err != nil {
					break
				}
			}
		}
	}
}
