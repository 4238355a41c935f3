//go:build amd64 && !purego

package state

import "golang.org/x/sys/cpu"

// haveLanes reports whether compress16 can run: it needs AVX-512F (and the
// OS saving the ZMM registers, which cpu checks).
var haveLanes = cpu.X86.HasAVX512F

// compress16 hashes sixteen 68-byte messages at once; see gen_hash.go.
//
//go:noescape
func compress16(msg *[17][16]uint32, out *[8][16]uint32)
