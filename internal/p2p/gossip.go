package p2p

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	pb "github.com/libp2p/go-libp2p-pubsub/pb"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/onvm-network/onvm/internal/codec"
	"github.com/onvm-network/onvm/internal/dag"
	"github.com/onvm-network/onvm/internal/id"
)

// Gossip topics.
const (
	TopicDAG      = "/onvm/dag/2.0.0"      // message data: one vertex's canonical bytes
	TopicAnnounce = "/onvm/announce/2.0.0" // message data: an Announcement; the signer provides
)

// Gossip limits. A vertex always fits in a message (dag.MaxVertexSize plus
// the envelope), so no valid vertex is unpublishable.
const (
	MaxGossipSize    = dag.MaxVertexSize + 64<<10
	maxAnnounceItems = 256
	maxAnnounceSize  = 64 << 10
	subscriptionBuf  = 4096
)

// Announcement says that the message's signer provides these blobs and
// programs. It is a hint for fetchers (who verify everything they get),
// not a claim anybody acts on otherwise.
type Announcement struct {
	Blobs    []id.Blob    `cbor:"1,keyasint"`
	Programs []id.Program `cbor:"2,keyasint"`
}

// GossipConfig configures Gossip. Zero fields take defaults.
type GossipConfig struct {
	// Score and Thresholds override DefaultScoreParams.
	Score      *pubsub.PeerScoreParams
	Thresholds *pubsub.PeerScoreThresholds
	// Options are appended to the pubsub options (tests tune heartbeats).
	Options []pubsub.Option
}

// Gossip publishes and receives vertices and announcements over gossipsub.
type Gossip struct {
	ps        *pubsub.PubSub
	dagTopic  *pubsub.Topic
	annTopic  *pubsub.Topic
	dagSub    *pubsub.Subscription
	annSub    *pubsub.Subscription
	d         *dag.DAG
	scores    *Scores
	providers *ProviderBook
	syncer    *Syncer
	self      peer.ID
	log       *slog.Logger

	published, received atomic.Uint64
}

// MessageID is gossipsub's message id: BLAKE3 of the data. For a vertex it
// equals the vertex id.
func MessageID(m *pb.Message) string {
	h := id.Sum(m.Data)
	return string(h[:])
}

// DefaultScoreParams returns ONVM's gossipsub scoring. Invalid messages
// weigh heavily (P4, −100 × count²: a handful graylist a peer), first
// deliveries earn a little (P2), time in mesh a little (P1); mesh delivery
// rates (P3) are off because vertices come in bursts and a quiet network
// would penalise everybody. The application score (P5) is Scores.Score:
// penalties from the DAG, sync and blob services.
func DefaultScoreParams(scores *Scores) (*pubsub.PeerScoreParams, *pubsub.PeerScoreThresholds) {
	topic := &pubsub.TopicScoreParams{
		TopicWeight:                     1,
		TimeInMeshWeight:                0.01,
		TimeInMeshQuantum:               time.Second,
		TimeInMeshCap:                   300,
		FirstMessageDeliveriesWeight:    1,
		FirstMessageDeliveriesDecay:     pubsub.ScoreParameterDecay(10 * time.Minute),
		FirstMessageDeliveriesCap:       50,
		InvalidMessageDeliveriesWeight:  -100,
		InvalidMessageDeliveriesDecay:   pubsub.ScoreParameterDecay(time.Hour),
		MeshMessageDeliveriesDecay:      0.5,
		MeshMessageDeliveriesCap:        1,
		MeshMessageDeliveriesThreshold:  1,
		MeshMessageDeliveriesWindow:     10 * time.Millisecond,
		MeshMessageDeliveriesActivation: time.Minute,
		MeshFailurePenaltyDecay:         0.5,
	}
	ann := *topic
	ann.TopicWeight = 0.5
	loopback := []*net.IPNet{{IP: net.IPv4(127, 0, 0, 0), Mask: net.CIDRMask(8, 32)}, {IP: net.IPv6loopback, Mask: net.CIDRMask(128, 128)}}
	params := &pubsub.PeerScoreParams{
		Topics:                      map[string]*pubsub.TopicScoreParams{TopicDAG: topic, TopicAnnounce: &ann},
		TopicScoreCap:               50,
		AppSpecificScore:            scores.Score,
		AppSpecificWeight:           10,
		IPColocationFactorWeight:    -10,
		IPColocationFactorThreshold: 8,
		IPColocationFactorWhitelist: loopback,
		BehaviourPenaltyWeight:      -10,
		BehaviourPenaltyThreshold:   6,
		BehaviourPenaltyDecay:       pubsub.ScoreParameterDecay(10 * time.Minute),
		DecayInterval:               time.Second,
		DecayToZero:                 0.01,
		RetainScore:                 30 * time.Minute,
	}
	th := &pubsub.PeerScoreThresholds{
		GossipThreshold:             -500,
		PublishThreshold:            -1000,
		GraylistThreshold:           -2500,
		AcceptPXThreshold:           100,
		OpportunisticGraftThreshold: 5,
	}
	return params, th
}

// NewGossip starts gossipsub on h (for the lifetime of ctx) and joins the
// ONVM topics. syncer, if not nil, is triggered when a gossiped vertex
// arrives before its parents.
func NewGossip(ctx context.Context, h host.Host, d *dag.DAG, scores *Scores, providers *ProviderBook, syncer *Syncer, cfg GossipConfig, log *slog.Logger) (*Gossip, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	params, th := DefaultScoreParams(scores)
	if cfg.Score != nil {
		params = cfg.Score
	}
	if cfg.Thresholds != nil {
		th = cfg.Thresholds
	}
	opts := append([]pubsub.Option{
		pubsub.WithMessageSignaturePolicy(pubsub.StrictSign),
		pubsub.WithMessageIdFn(MessageID),
		pubsub.WithMaxMessageSize(MaxGossipSize),
		// Flood publishing sends our own messages to every subscribed peer,
		// not just the mesh: a vertex reaches a peer that joined a moment
		// ago. Sync backs it up regardless.
		pubsub.WithFloodPublish(true),
		pubsub.WithPeerScore(params, th),
		pubsub.WithValidateQueueSize(1024),
		pubsub.WithPeerOutboundQueueSize(256),
	}, cfg.Options...)
	ps, err := pubsub.NewGossipSub(ctx, h, opts...)
	if err != nil {
		return nil, fmt.Errorf("start gossipsub: %w", err)
	}
	g := &Gossip{ps: ps, d: d, scores: scores, providers: providers, syncer: syncer, self: h.ID(), log: log}
	vopts := []pubsub.ValidatorOpt{pubsub.WithValidatorTimeout(10 * time.Second), pubsub.WithValidatorConcurrency(64)}
	if err := ps.RegisterTopicValidator(TopicDAG, g.validateVertex, vopts...); err != nil {
		return nil, fmt.Errorf("gossip: %w", err)
	}
	if err := ps.RegisterTopicValidator(TopicAnnounce, g.validateAnnouncement, vopts...); err != nil {
		return nil, fmt.Errorf("gossip: %w", err)
	}
	if g.dagTopic, err = ps.Join(TopicDAG); err != nil {
		return nil, fmt.Errorf("gossip: join %s: %w", TopicDAG, err)
	}
	if g.annTopic, err = ps.Join(TopicAnnounce); err != nil {
		return nil, fmt.Errorf("gossip: join %s: %w", TopicAnnounce, err)
	}
	if g.dagSub, err = g.dagTopic.Subscribe(pubsub.WithBufferSize(subscriptionBuf)); err != nil {
		return nil, fmt.Errorf("gossip: subscribe %s: %w", TopicDAG, err)
	}
	if g.annSub, err = g.annTopic.Subscribe(pubsub.WithBufferSize(subscriptionBuf)); err != nil {
		return nil, fmt.Errorf("gossip: subscribe %s: %w", TopicAnnounce, err)
	}
	return g, nil
}

// validateVertex decodes and prechecks a gossiped vertex before gossipsub
// forwards it: an invalid one is rejected, which scores its sender down.
func (g *Gossip) validateVertex(_ context.Context, from peer.ID, m *pubsub.Message) pubsub.ValidationResult {
	if from == g.self { // our own vertex, stored before it was published
		return pubsub.ValidationAccept
	}
	v, err := g.d.DecodeAndPrecheck(m.Data)
	if err != nil {
		g.log.Debug("invalid gossiped vertex", "peer", from.String(), "err", err)
		return pubsub.ValidationReject
	}
	m.ValidatorData = v
	return pubsub.ValidationAccept
}

func (g *Gossip) validateAnnouncement(_ context.Context, from peer.ID, m *pubsub.Message) pubsub.ValidationResult {
	a, err := decodeAnnouncement(m.Data)
	if err != nil {
		g.log.Debug("invalid announcement", "peer", from.String(), "err", err)
		return pubsub.ValidationReject
	}
	m.ValidatorData = a
	return pubsub.ValidationAccept
}

func decodeAnnouncement(b []byte) (*Announcement, error) {
	if len(b) > maxAnnounceSize {
		return nil, fmt.Errorf("%w: announcement of %d bytes", ErrTooLarge, len(b))
	}
	var a Announcement
	if err := codec.Unmarshal(b, &a); err != nil {
		return nil, fmt.Errorf("%w: announcement: %v", ErrProtocol, err)
	}
	if n := len(a.Blobs) + len(a.Programs); n == 0 || n > maxAnnounceItems {
		return nil, fmt.Errorf("%w: announcement of %d items", ErrProtocol, n)
	}
	return &a, nil
}

// Start runs the receive loops until ctx ends; wg owns them.
func (g *Gossip) Start(ctx context.Context, wg *sync.WaitGroup) {
	wg.Go(func() { g.receiveVertices(ctx) })
	wg.Go(func() { g.receiveAnnouncements(ctx) })
}

func (g *Gossip) receiveVertices(ctx context.Context) {
	defer g.dagSub.Cancel()
	for {
		m, err := g.dagSub.Next(ctx)
		if err != nil {
			return
		}
		if m.ReceivedFrom == g.self {
			continue
		}
		v, ok := m.ValidatorData.(*dag.Vertex)
		if !ok {
			continue
		}
		g.received.Add(1)
		res, err := g.d.Add(ctx, dag.Source(m.ReceivedFrom), v)
		if err != nil {
			if ctx.Err() == nil {
				g.log.Warn("cannot add gossiped vertex", "peer", m.ReceivedFrom.String(), "err", err)
			}
			continue
		}
		reportRejections(g.scores, res.Rejected, false)
		if (res.Pending > 0 || len(res.Missing) > 0) && g.syncer != nil {
			g.syncer.Trigger(m.ReceivedFrom)
		}
	}
}

func (g *Gossip) receiveAnnouncements(ctx context.Context) {
	defer g.annSub.Cancel()
	for {
		m, err := g.annSub.Next(ctx)
		if err != nil {
			return
		}
		a, ok := m.ValidatorData.(*Announcement)
		if !ok || m.ReceivedFrom == g.self || g.providers == nil {
			continue
		}
		from := m.GetFrom()
		for _, b := range a.Blobs {
			g.providers.Add(id.Hash(b), from)
		}
		for _, p := range a.Programs {
			g.providers.Add(id.Hash(p), from)
		}
	}
}

// PublishVertex gossips v (already stored locally). It is the Proposer's
// Announce hook. A failure is not fatal: sync delivers v anyway.
func (g *Gossip) PublishVertex(ctx context.Context, v *dag.Vertex) error {
	if err := g.dagTopic.Publish(ctx, v.Raw()); err != nil {
		return fmt.Errorf("publish vertex %s: %w", v.ID(), err)
	}
	g.published.Add(1)
	return nil
}

// Announce tells peers that this node provides the given blobs and
// programs, in messages of at most maxAnnounceItems items.
func (g *Gossip) Announce(ctx context.Context, a Announcement) error {
	for len(a.Blobs)+len(a.Programs) > 0 {
		var part Announcement
		nb := min(len(a.Blobs), maxAnnounceItems)
		part.Blobs, a.Blobs = a.Blobs[:nb], a.Blobs[nb:]
		np := min(len(a.Programs), maxAnnounceItems-nb)
		part.Programs, a.Programs = a.Programs[:np], a.Programs[np:]
		b, err := codec.Marshal(&part)
		if err != nil {
			return fmt.Errorf("announce: %w", err)
		}
		if err := g.annTopic.Publish(ctx, b); err != nil {
			return fmt.Errorf("announce: %w", err)
		}
	}
	return nil
}

// ListPeers returns the peers subscribed to the vertex topic.
func (g *Gossip) ListPeers() []peer.ID { return g.dagTopic.ListPeers() }
