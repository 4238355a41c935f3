//go:build !amd64 || purego

package state

var haveLanes = false

func compress16(msg *[17][16]uint32, out *[8][16]uint32) { panic("state: compress16 without AVX-512") }
