package node

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/onvm-network/onvm/internal/chain"
	"github.com/onvm-network/onvm/internal/committee"
	"github.com/onvm-network/onvm/internal/dag"
	"github.com/onvm-network/onvm/internal/id"
	"github.com/onvm-network/onvm/internal/p2p"
	"github.com/onvm-network/onvm/internal/program"
	"github.com/onvm-network/onvm/internal/replica"
	"github.com/onvm-network/onvm/internal/state"
	"github.com/onvm-network/onvm/internal/wasm"
)

// openNetwork wires the validator set, the program engine, the
// replication layer, the DAG, the libp2p host and the network services, in
// that order: each is built with everything it needs (the committee shell
// and the agree protocol are joined to the engine through agreeLink). The replica's
// handlers must exist before the DAG opens (Open applies what a crash left
// unapplied), and the network needs the DAG. Close stops them in reverse:
// replica, network, host, engine.
func (n *Node) openNetwork(ctx context.Context, rt *wasm.Runtime, states *state.Store) (err error) {
	cfg := n.opts.Config
	vals, err := replica.OpenValidators(n.db, replica.SelfValidator(n.keys), cfg.Network.ValidatorTimeout)
	if err != nil {
		return err
	}
	allow := make([]id.Node, len(cfg.Network.Validators))
	for i, v := range cfg.Network.Validators {
		if err := allow[i].UnmarshalText([]byte(v)); err != nil {
			return fmt.Errorf("network.validators: %w", err)
		}
	}
	vals.Restrict(allow)
	ex := cfg.Execution
	link := &agreeLink{}
	n.chain, err = chain.New(chain.Options{
		DB: n.db, State: states, Catalog: program.NewCatalog(n.db, chain.BlobCode{Blobs: n.blobs}),
		Blobs: n.blobs, Runtime: rt, Keys: n.keys, CommitteeSize: ex.CommitteeSize,
		Validators: vals.Live, Outbox: n.out, Agree: link,
		Limits: chain.Limits{DefaultFuel: uint64(ex.DefaultFuel), MaxFuel: uint64(ex.MaxFuel),
			DefaultTimeout: ex.Timeout, MaxTimeout: ex.MaxTimeout, MaxInput: int(ex.MaxInput)},
		Logger: n.log.With("component", "chain"),
	})
	if err != nil {
		return err
	}
	n.closers = append(n.closers, n.chain.Close)
	shell := committee.New(committee.Config{
		DB: n.db, Self: n.keys.Node(), Key: n.keys.BLS, App: n.chain.App(), Transport: link,
		Log: n.log.With("component", "committee"),
	})
	link.shell.Store(shell)
	n.shell = shell
	n.closers = append(n.closers, shell.Close) // before the engine it drives
	n.replica, err = replica.New(replica.Options{
		DB: n.db, Blobs: n.blobs, Keys: n.keys,
		Chain: n.chain, Validators: vals, Outgoing: n.out,
		SyncMode:   cfg.Storage.BlobSyncMode,
		MinPeers:   cfg.Network.MinPeers,
		Registerer: n.reg,
		Logger:     n.log.With("component", "replica"),
	})
	if err != nil {
		return err
	}

	// New starts a node even under a cancelled context (Run then returns at
	// once): the DAG's re-drive and the network's start must not fail on it.
	ctx = context.WithoutCancel(ctx)
	scores := p2p.NewScores() // shared: the DAG blames the authors of refused operations in it
	n.dag, err = dag.Open(ctx, dag.Config{DB: n.db, Registry: n.replica.Registry(), Key: n.keys.Ed25519, Outbox: n.outbox,
		OnInvalidOp: scores.BlameAuthor, Logger: n.log.With("component", "dag")})
	if err != nil {
		return err
	}

	plog := n.log.With("component", "p2p")
	n.host, err = p2p.NewNetworkHost(p2p.NetworkHostConfig{
		Key:                 n.keys.Ed25519,
		Listen:              cfg.Network.Listen,
		AgentVersion:        "onvm/" + Version(),
		DisableNATTraversal: loopbackOnly(cfg.Network.Listen),
		Logger:              plog,
	})
	if err != nil {
		return err
	}
	n.closers = append(n.closers, n.host.Close)
	for _, a := range p2p.FullAddrs(n.host) {
		plog.Info("p2p listening", "addr", a)
	}
	boot, errs := p2p.ParseBootnodes(cfg.Network.Bootnodes)
	for _, e := range errs {
		plog.Warn("skipping invalid bootnode", "err", e)
	}
	disc := p2p.DiscoveryConfig{Bootnodes: boot, MDNS: cfg.Network.EnableMDNS, PeerFile: filepath.Join(n.opts.DataDir, PeersFile)}
	n.net, err = p2p.New(ctx, n.host, n.dag, n.blobs, p2p.Config{
		Discovery: disc,
		Exec:      p2p.ExecConfig{Allow: n.replica.IsValidator},
		Agree:     p2p.AgreeConfig{Allow: n.replica.IsValidator, MaxMessage: committee.MaxMessageSize},
		Scores:    scores,
		Logger:    plog,
	})
	if err != nil {
		return err
	}
	n.closers = append(n.closers, n.net.Close) // before the host, after the replica
	n.net.Agree().Handle(link.receive)
	link.wire.Store(n.net.Agree())
	n.reg.MustRegister(n.dag.Collector(), n.net.Collector())

	n.prop, err = dag.NewProposer(n.dag, dag.ProposerConfig{Announce: n.net.Announce, Logger: n.log.With("component", "proposer"),
		OnDropped: func(err error) { n.log.Warn("operation dropped at proposal", "err", err) }})
	if err != nil {
		return err
	}
	n.replica.Attach(n.dag, n.net, n.prop)
	n.closers = append(n.closers, n.replica.Close) // first to stop: proposer and workers
	return nil
}

// startReplica starts proposing (after a first sync when the node may have
// lost its own vertices) once everything is wired.
func (n *Node) startReplica() {
	cfg := n.opts.Config.Network
	n.replica.Start(replica.StartOptions{ExpectPeers: len(cfg.Bootnodes) > 0 || cfg.EnableMDNS})
}

// loopbackOnly reports whether every listen address is on loopback, where
// NAT traversal (AutoNAT, relays, hole punching) has nothing to do.
func loopbackOnly(listen []string) bool {
	if len(listen) == 0 {
		return false
	}
	for _, a := range listen {
		if !strings.HasPrefix(a, "/ip4/127.") && !strings.HasPrefix(a, "/ip6/::1/") {
			return false
		}
	}
	return true
}
