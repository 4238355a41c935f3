package p2p

import (
	"github.com/prometheus/client_golang/prometheus"
)

var (
	descPeers      = prometheus.NewDesc("onvm_p2p_peers", "Connected peers, and how many of them speak the ONVM protocols.", []string{"kind"}, nil)
	descSync       = prometheus.NewDesc("onvm_p2p_sync_sessions_total", "Outgoing sync sessions, by result.", []string{"result"}, nil)
	descSyncVtx    = prometheus.NewDesc("onvm_p2p_sync_vertices_total", "Vertices received by sync, by outcome.", []string{"outcome"}, nil)
	descSyncServed = prometheus.NewDesc("onvm_p2p_sync_requests_served_total", "Sync requests served to peers.", nil, nil)
	descGossip     = prometheus.NewDesc("onvm_p2p_gossip_vertices_total", "Vertices published and received over gossip.", []string{"direction"}, nil)
	descBanned     = prometheus.NewDesc("onvm_p2p_banned_peers", "Connected peers whose score is at or below the ban score.", nil, nil)
	descAgree      = prometheus.NewDesc("onvm_p2p_agree_messages_total", "Committee messages, by outcome: sent, dropped (queue full or peer unreachable), received, refused (malformed, not a member, badly signed, or a stream from a node not heard), limited (over the peer's rate).", []string{"outcome"}, nil)
)

// Collector returns a Prometheus collector of the network's counters and
// gauges, for the node to register next to the DAG's.
func (n *Network) Collector() prometheus.Collector { return netCollector{n} }

type netCollector struct{ n *Network }

func (c netCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descPeers, descSync, descSyncVtx, descSyncServed, descGossip, descBanned, descAgree} {
		ch <- d
	}
}

func (c netCollector) Collect(ch chan<- prometheus.Metric) {
	n := c.n
	gauge := func(d *prometheus.Desc, v float64, l ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, l...)
	}
	counter := func(d *prometheus.Desc, v uint64, l ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), l...)
	}
	all := n.h.Network().Peers()
	banned := 0
	for _, p := range all {
		if n.scores.Banned(p) {
			banned++
		}
	}
	gauge(descPeers, float64(len(all)), "connected")
	gauge(descPeers, float64(len(ONVMPeers(n.h))), "onvm")
	gauge(descBanned, float64(banned))
	s := n.syncer.Stats()
	counter(descSync, s.Sessions, "ok")
	counter(descSync, s.Failures, "failed")
	counter(descSyncVtx, s.Received, "received")
	counter(descSyncVtx, s.Accepted, "accepted")
	counter(descSyncVtx, s.Rejected, "rejected")
	counter(descSyncServed, s.ServedReq)
	counter(descGossip, n.gossip.published.Load(), "published")
	counter(descGossip, n.gossip.received.Load(), "received")
	a := n.agree.Stats()
	counter(descAgree, a.Sent, "sent")
	counter(descAgree, a.Dropped, "dropped")
	counter(descAgree, a.Received, "received")
	counter(descAgree, a.Refused, "refused")
	counter(descAgree, a.Limited, "limited")
}
