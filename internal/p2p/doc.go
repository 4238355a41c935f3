// Package p2p is ONVM's network layer: a libp2p host (host.go, options.go)
// and the services built on any host.Host handed in by the node:
//
//   - Gossip: gossipsub with strict signatures, BLAKE3 message ids, size
//     limits, peer scoring and validators that decode and verify before
//     anything is forwarded; vertices on one topic, provider announcements
//     on another.
//   - Syncer: /onvm/sync/2.0.0, version-vector anti-entropy that pulls
//     missing vertices in bounded batches, on connect, on demand and
//     periodically. Gossip is the fast path; sync is what makes delivery
//     certain.
//   - Discovery: bootnodes re-dialled with backoff, the peers remembered
//     from earlier runs (a small file the node names) dialled at start,
//     opt-in mDNS, and a Kademlia DHT in the private /onvm namespace holding
//     provider records for blobs and programs.
//   - BlobService: /onvm/blob/1.0.0, verified, resumable, multi-provider
//     blob transfer.
//   - Exec: /onvm/exec/1.0.0, authenticated, rate-limited forwarding of
//     opaque execution requests to a handler the node registers.
//   - Peers, WaitForPeers, MinPeers: who is connected, and the gate the
//     node uses to refuse work until enough peers are.
//
// Network bundles them. The services never trust a peer for anything they
// have not verified, bound every message, stream and queue, and report bad
// peers to Scores, which feeds gossipsub's application score. They do not
// interpret operations (package dag and the node's handlers do) and do not
// touch storage except through the DAG, the blob store and the peer file.
package p2p
