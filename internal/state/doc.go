// Package state is ONVM's per-program key-value state and its commitment:
// the original implementation's sparse Merkle tree, bit-exact, stored
// incrementally in the node's pebble database.
//
// The tree (notes §6.3): kh = BLAKE3(key), vh = BLAKE3(value);
// leaf = BLAKE3("leaf" ‖ kh ‖ vh); internal = BLAKE3("node" ‖ left ‖ right);
// the empty subtree is the one constant EmptyRoot at every level; 256 levels,
// key bits MSB first, 0 = left; no single-leaf shortcut. Proofs are the 256
// siblings from the leaf level (depth 255) up to the root (depth 0).
//
// Storage (see docs/rationale/state.md) is a path-compressed binary trie of
// immutable, content-addressed records: one record per leaf and one per
// branching node, each keyed by the exact tree hash of its subtree, so an
// update hashes O(256) nodes and writes O(log n) records, a proof is read
// rather than rebuilt, and every committed root stays provable until pruned.
// A flat index holds the latest value of every key for Get and List.
//
// The package stages writes into a caller's pebble batch and never commits:
// what becomes durable, and when, is the caller's decision (execution and
// consensus commit state, receipt and root in one batch). It does not
// execute programs, decide heights or talk to peers, and it keeps its own
// keys under the "s/" prefix of the shared database.
//
// A Store is safe for concurrent use. Transitions of one program must be
// serialised by the caller; different programs may be applied in parallel.
package state
