package guesttest

import (
	"github.com/zeebo/blake3"
)

// smtEmpty is the root of every empty subtree.
var smtEmpty = [32]byte([]byte("onvm-smt-empty-onvm-smt-empty!!\x00"))

// Root returns the sparse Merkle root the node commits to for a program
// whose state is pairs (key -> value): 256 levels, BLAKE3, leaf =
// H("leaf"‖H(key)‖H(value)), node = H("node"‖left‖right), one constant for
// every empty subtree, key bits MSB first. It is the straightforward
// O(n·256) recursion, fine for tests.
func Root(pairs map[string][]byte) [32]byte {
	leaves := make([]leaf, 0, len(pairs))
	for k, v := range pairs {
		leaves = append(leaves, leaf{kh: blake3.Sum256([]byte(k)), vh: blake3.Sum256(v)})
	}
	return subtree(leaves, 0)
}

type leaf struct{ kh, vh [32]byte }

func subtree(leaves []leaf, depth int) [32]byte {
	if len(leaves) == 0 {
		return smtEmpty
	}
	if depth == 256 {
		return hash3("leaf", leaves[0].kh[:], leaves[0].vh[:])
	}
	var left, right []leaf
	for _, l := range leaves {
		if l.kh[depth/8]>>(7-depth%8)&1 == 1 {
			right = append(right, l)
		} else {
			left = append(left, l)
		}
	}
	l, r := subtree(left, depth+1), subtree(right, depth+1)
	return hash3("node", l[:], r[:])
}

func hash3(tag string, a, b []byte) [32]byte {
	h := blake3.New()
	_, _ = h.Write([]byte(tag))
	_, _ = h.Write(a)
	_, _ = h.Write(b)
	var out [32]byte
	h.Sum(out[:0])
	return out
}
