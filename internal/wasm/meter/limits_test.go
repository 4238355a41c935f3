package meter

import (
	"bytes"
	"errors"
	"testing"

	"github.com/onvm-network/onvm/internal/wasm/meter/wasmbin"
)

// limitModule returns a module of type () -> () functions with the given bodies (locals and
// code, without the size prefix), and extra sections.
func limitModule(bodies [][]byte, extra ...wasmbin.Section) []byte {
	m := &wasmbin.Module{}
	m.Set(wasmbin.SecType, wasmbin.EncodeTypes([]wasmbin.FuncType{{}}))
	fs := wasmbin.AppendU32(nil, uint32(len(bodies)))
	fs = append(fs, bytes.Repeat([]byte{0}, len(bodies))...)
	m.Set(wasmbin.SecFunction, fs)
	for _, s := range extra {
		m.Set(s.ID, s.Payload)
	}
	m.Set(wasmbin.SecCode, wasmbin.EncodeCode(bodies))
	return m.Encode()
}

// dropBody is a body of n × (i32.const 0; drop).
func dropBody(n int) []byte {
	return append(append([]byte{0}, bytes.Repeat([]byte{0x41, 0x00, 0x1a}, n)...), 0x0b)
}

// nestBody is a body of depth nested blocks.
func nestBody(depth int) []byte {
	b := append([]byte{0}, bytes.Repeat([]byte{0x02, 0x40}, depth)...)
	return append(b, bytes.Repeat([]byte{0x0b}, depth+1)...)
}

// flatBody is a body of n units one after the other, inside a block (unit br_if 0 branches
// to its end).
func flatBody(unit []byte, n int) []byte {
	b := append([]byte{0, 0x02, 0x40}, bytes.Repeat(unit, n)...)
	return append(b, 0x0b, 0x0b)
}

var (
	brIf = []byte{0x41, 0x00, 0x0d, 0x00} // i32.const 0; br_if 0
	loop = []byte{0x03, 0x40, 0x0b}       // loop end
)

func repeat(b []byte, n int) [][]byte {
	bs := make([][]byte, n)
	for i := range bs {
		bs[i] = b
	}
	return bs
}

// TestLimits: a module just over each module limit is refused with a *LimitError naming it,
// by CheckLimits and by Instrument, and one at the limit is accepted.
func TestLimits(t *testing.T) {
	localsBody := append(wasmbin.AppendU32([]byte{1}, MaxLocals), wasmbin.I64, 0x0b)
	segments := func(n int, seg []byte) []byte {
		return append(wasmbin.AppendU32(nil, uint32(n)), bytes.Repeat(seg, n)...)
	}
	tests := []struct {
		limit    string
		at, over []byte
	}{
		{"function_size", limitModule([][]byte{dropBody((MaxFunctionSize - 2) / 3)}),
			limitModule([][]byte{dropBody((MaxFunctionSize-2)/3 + 1)})},
		{"code_size", limitModule(repeat(dropBody((MaxFunctionSize-8)/3), MaxCodeSize/MaxFunctionSize)),
			limitModule(repeat(dropBody((MaxFunctionSize-8)/3), MaxCodeSize/MaxFunctionSize+1))},
		{"functions", limitModule(repeat([]byte{0, 0x0b}, MaxFunctions)),
			limitModule(repeat([]byte{0, 0x0b}, MaxFunctions+1))},
		{"function_locals", limitModule([][]byte{localsBody}),
			limitModule([][]byte{append(wasmbin.AppendU32([]byte{1}, MaxLocals+1), wasmbin.I64, 0x0b)})},
		{"locals", limitModule(repeat(localsBody, MaxTotalLocals/MaxLocals)),
			limitModule(repeat(localsBody, MaxTotalLocals/MaxLocals+1))},
		{"nesting", limitModule([][]byte{nestBody(MaxNesting)}), limitModule([][]byte{nestBody(MaxNesting + 1)})},
		{"nesting_work", limitModule(repeat(nestBody(MaxNesting), MaxNestingWork/(MaxNesting*MaxNesting))),
			limitModule(repeat(nestBody(MaxNesting), MaxNestingWork/(MaxNesting*MaxNesting)+1))},
		// n br_ifs in a row cost n(n+1)/2 + 1 (the end of the enclosing block).
		{"branch_work", limitModule([][]byte{flatBody(brIf, 2827)}), limitModule([][]byte{flatBody(brIf, 2828)})},
		{"blocks", limitModule(repeat(flatBody(loop, 10), MaxBlocks/11)),
			limitModule(repeat(flatBody(loop, 10), MaxBlocks/11+1))},
		{"data_segments", limitModule(nil, wasmbin.Section{ID: wasmbin.SecData, Payload: segments(MaxDataSegments, []byte{1, 0})}),
			limitModule(nil, wasmbin.Section{ID: wasmbin.SecData, Payload: segments(MaxDataSegments+1, []byte{1, 0})})},
		{"element_segments", limitModule(nil, wasmbin.Section{ID: wasmbin.SecElement, Payload: segments(MaxElementSegments, []byte{1, 0, 0})}),
			limitModule(nil, wasmbin.Section{ID: wasmbin.SecElement, Payload: segments(MaxElementSegments+1, []byte{1, 0, 0})})},
	}
	for _, tt := range tests {
		t.Run(tt.limit, func(t *testing.T) {
			if err := CheckLimits(tt.at); err != nil {
				t.Errorf("at the limit: %v", err)
			}
			for name, err := range map[string]error{"CheckLimits": CheckLimits(tt.over), "Instrument": instrumentErr(tt.over)} {
				var le *LimitError
				if !errors.As(err, &le) || le.Limit != tt.limit || le.Value <= le.Max || !errors.Is(err, ErrUnsupported) {
					t.Errorf("%s over the limit: %v, want a %s LimitError", name, err, tt.limit)
				}
			}
		})
	}
}

func instrumentErr(wasm []byte) error {
	_, err := Instrument(wasm, DefaultConfig())
	return err
}
