// Package replica makes one node a replica of the network: it turns the
// node's local operations into operations of the DAG and gives peers'
// operations their effect on the node's stores.
//
// Outgoing, through the DAG's outbox: every commit that the network must
// hear of stages its operation in its own commit batch (Outgoing), so
// that a crash can lose neither without the other and nothing is ever
// republished: a blob made complete here becomes blob_published (the blob
// store's OnComplete), a deploy program_deployed and a committed
// transition transition (the chain's Outbox), a terminal job job_record
// (the job service's Outbox), and the node's BLS key validator_registered,
// once. The proposer carries the outbox into the node's vertices.
//
// Incoming, as one dag.Handler per kind: blob metadata and provider hints
// (and, in full sync mode, a background fetch), manifests verified against
// their deployer and — once the code is fetched — against their program
// id before they enter the catalog, finalized transitions applied in
// height order without re-executing (chain.ApplyFinalized), terminal job
// records imported, validators added to the set committees are chosen
// from. Every handler is deterministic and idempotent, so the same set of
// vertices gives every node the same catalog, receipts, state roots and
// job records, whatever the order they arrived in.
//
// Around the stores it wraps, it fetches blobs and program code from
// providers on demand (verified, deduplicated, rate-limited, bounded in
// time) and forwards executions this node cannot finalize to the
// program's committee leader over the authenticated exec protocol.
//
// The package owns the "n/" prefix of the node's database (bookkeeping
// only: published blob metadata, validators, manifests awaiting their
// code, transitions awaiting their manifest, job records awaiting the job
// service). It must not speak HTTP, must not execute anything a peer
// sent except a forwarded request from a known validator, and must not
// trust a peer's bytes before the store or the verifier that owns them has
// checked them.
package replica
