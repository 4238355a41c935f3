package p2p

import "errors"

// Sentinel errors. Returned errors wrap them with the operation and the
// peer or id.
var (
	// ErrNotEnoughPeers reports fewer connected ONVM peers than required.
	ErrNotEnoughPeers = errors.New("not enough peers")
	// ErrDenied reports a request the remote node is not allowed to make.
	ErrDenied = errors.New("request denied")
	// ErrRateLimited reports a request refused by a per-peer rate limit.
	ErrRateLimited = errors.New("rate limited")
	// ErrTooLarge reports a message over its protocol's limit.
	ErrTooLarge = errors.New("message too large")
	// ErrProtocol reports a malformed or out-of-protocol message.
	ErrProtocol = errors.New("protocol violation")
	// ErrRemote reports a failure the remote side reported.
	ErrRemote = errors.New("remote failure")
	// ErrNoProviders reports a blob no reachable peer could supply.
	ErrNoProviders = errors.New("no provider could supply the blob")
	// ErrUnavailable reports a service with nothing registered to serve
	// it, or a peer that cannot be reached.
	ErrUnavailable = errors.New("service unavailable")
	// ErrClosed reports use of a closed service.
	ErrClosed = errors.New("network closed")
)
