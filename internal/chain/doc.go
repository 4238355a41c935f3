// Package chain is the per-program transition engine: it deploys programs
// (validate, instrument, store, sign a manifest), executes them as state
// transitions at heights 1, 2, 3 …, and keeps each program's chain of
// finalized transitions — receipt, aggregated BLS signature, ordered
// writes, output — durable under the "r/" prefix of the node's database.
//
// A transition is atomic: the state writes (state.Apply into a batch), the
// certified receipt, the request-id index and the new head (height, root,
// logical time) are committed in one pebble batch, so a crash leaves either
// all of them or none. A failed execution (trap, out of fuel, timeout …)
// commits nothing. Transitions of one program are serialised by a
// per-program lock, held to run the guest and stage its writes; the receipt
// is signed and the batch applied after it is released, while the next
// guest runs against those writes (pipeline.go). Different programs run in
// parallel.
//
// Two paths advance a program: Execute runs the guest here and finalizes
// the receipt with the signatures this node can give (on one node, its
// own); ApplyFinalized takes a transition finalized elsewhere and applies
// its writes without re-executing, after checking the aggregate signature
// against the committee in the program's manifest, the height, the state
// root in, the write digest and the state root out.
//
// The package does not speak HTTP, does not talk to peers and does not
// know about the DAG: the network layer calls ApplyFinalized and
// Transitions, and learns of local commits through the Outbox they stage
// their operations in.
package chain
