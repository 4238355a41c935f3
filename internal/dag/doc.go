// Package dag is ONVM's replicated operation log: a DAG of signed vertices,
// each batching up to MaxOps typed operations of one author, linked to the
// author's previous vertex and to the tips its author had seen.
//
// The package holds a pure core (Vertex encoding, signing and stateless
// validation, version vectors) and a thin shell around it (DAG: the pebble
// store under the "d/" prefix, the pending buffer for vertices whose parents
// have not arrived, equivocation evidence, and the pipeline that hands every
// accepted operation to its kind's Handler in causal order — at least once:
// the operation in flight at a crash is applied again, so handlers are
// idempotent). Outbox holds the node's own operations, staged in their
// producers' commit batches, until a vertex carries them; Proposer batches
// them into one vertex per slot.
//
// What an operation means is not this package's business: the node registers
// a Handler per Kind (see Registry) and the typed bodies live in package
// dag/op. The package must not do networking (package p2p moves vertices),
// must not trust a vertex for anything it has not verified, and must not let
// the order in which vertices arrive change which operations are applied.
package dag
