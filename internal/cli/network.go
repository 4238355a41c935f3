package cli

import (
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/onvm-network/onvm/client"
)

func (e *env) peersCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "peers",
		Short: "List the node's connected peers",
		Long: `peers prints the node's own peer id and addresses (each ending in /p2p/<peer id>, ready
for another node's --bootnode), network.min_peers, and one line per connected peer: peer id,
whether it speaks the ONVM protocols, how long it has been connected, its latency, its agent
and its addresses. --json prints GET /peers as it is.`,
		Example: "  onvm peers --rpc :8080\n  onvm peers --rpc :8080 --json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := e.client(cmd)
			if err != nil {
				return err
			}
			ps, err := c.Peers(cmd.Context())
			if err != nil {
				return fmt.Errorf("peers: %w", nodeError(c, err))
			}
			if asJSON, _ := cmd.Flags().GetBool("json"); asJSON {
				return printJSON(cmd.OutOrStdout(), ps)
			}
			printPeers(cmd.OutOrStdout(), ps, time.Now())
			return nil
		},
	}
	addRPCFlag(cmd)
	cmd.Flags().Bool("json", false, "print the JSON response")
	return cmd
}

func printPeers(w io.Writer, ps *client.Peers, now time.Time) {
	printf(w, "Peer ID: %s\n", ps.Self.PeerID)
	for _, a := range ps.Self.Addrs {
		printf(w, "Address: %s\n", a)
	}
	printf(w, "Peers: %d connected, %d ONVM (min_peers %d)\n", len(ps.Peers), ps.ONVMPeers, ps.MinPeers)
	for _, p := range ps.Peers {
		kind := "other"
		if p.ONVM {
			kind = "onvm"
		}
		since := "-"
		if !p.ConnectedSince.IsZero() {
			since = now.Sub(p.ConnectedSince).Truncate(time.Second).String()
		}
		lat := "-"
		if p.LatencyNS > 0 {
			lat = time.Duration(p.LatencyNS).Round(10 * time.Microsecond).String()
		}
		printf(w, "%s  %s  up %s  latency %s  agent %q  %v\n", p.PeerID, kind, since, lat, p.AgentVersion, p.Addrs)
	}
}

func (e *env) dagCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "dag",
		Short: "Inspect the node's operation DAG",
		Long: `dag prints what the node holds of the operation DAG, as JSON: its tips and counters
(heads), one vertex with its decoded operations (vertex --id), every author with its highest
accepted sequence (authors, the version vector), and the evidence of equivocations.`,
		Args: cobra.NoArgs,
	}
	sub := func(use, short string, run func(cmd *cobra.Command, c *client.Client) (any, error)) *cobra.Command {
		s := &cobra.Command{
			Use:   use,
			Short: short,
			Args:  cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				c, err := e.client(cmd)
				if err != nil {
					return err
				}
				v, err := run(cmd, c)
				if err != nil {
					return fmt.Errorf("dag %s: %w", use, nodeError(c, err))
				}
				return printJSON(cmd.OutOrStdout(), v)
			},
		}
		addRPCFlag(s)
		return s
	}
	heads := sub("heads", "Print the DAG's tips, vertex count and rejection counters", func(cmd *cobra.Command, c *client.Client) (any, error) {
		return c.DAGHeads(cmd.Context())
	})
	vertex := sub("vertex", "Print one vertex with its decoded operations", func(cmd *cobra.Command, c *client.Client) (any, error) {
		v, _ := cmd.Flags().GetString("id")
		return c.DAGVertex(cmd.Context(), v)
	})
	vertex.Flags().String("id", "", "vertex id, 64 hex (required)")
	_ = vertex.MarkFlagRequired("id")
	authors := sub("authors", "Print every author and its highest accepted sequence", func(cmd *cobra.Command, c *client.Client) (any, error) {
		return c.DAGAuthors(cmd.Context())
	})
	equiv := sub("equivocations", "Print the authors caught equivocating and the evidence", func(cmd *cobra.Command, c *client.Client) (any, error) {
		n, _ := cmd.Flags().GetInt("limit")
		return c.DAGEquivocations(cmd.Context(), n)
	})
	equiv.Flags().Int("limit", 100, "equivocated slots to print (1..1000)")
	cmd.AddCommand(heads, vertex, authors, equiv)
	return cmd
}
