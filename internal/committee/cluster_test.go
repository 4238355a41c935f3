package committee

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/onvm-network/onvm/internal/bft"
	"github.com/onvm-network/onvm/internal/bls"
	"github.com/onvm-network/onvm/internal/consensus"
	"github.com/onvm-network/onvm/internal/id"
)

var fast = bft.Timeouts{Propose: 100 * time.Millisecond, Prevote: 50 * time.Millisecond, Precommit: 50 * time.Millisecond, Delta: 50 * time.Millisecond}

// app is a test application: values are the BLAKE3 of their content, a
// content names its proposer and height, and Commit checks certificates.
type app struct {
	mu       sync.Mutex
	self     id.Node
	c        *consensus.Committee
	pending  int
	values   []id.Hash // decided, by height − 1
	contents [][]byte
	certs    []*consensus.Certificate
	changed  chan struct{} // signalled after each commit
}

func (a *app) Committee(id.Program) (*consensus.Committee, uint64, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.c, uint64(len(a.values)) + 1, nil
}

func (a *app) Pending(id.Program) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.pending > 0
}

func (a *app) Propose(_ context.Context, _ id.Program, h uint64) (id.Hash, []byte, bool, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.pending == 0 {
		return id.Hash{}, nil, false, nil
	}
	content := fmt.Appendf(nil, "height %d by %s", h, a.self)
	return id.Sum(content), content, true, nil
}

func (a *app) Deliver(id.Program, []byte) error { return nil }

func (a *app) ValueOf(content []byte) (id.Hash, error) { return id.Sum(content), nil }

func (a *app) Validate(_ context.Context, _ id.Program, _ uint64, v id.Hash, content []byte) (bool, error) {
	return id.Sum(content) == v, nil
}

func (a *app) Commit(_ id.Program, h uint64, content []byte, cert *consensus.Certificate) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if h != uint64(len(a.values))+1 {
		return fmt.Errorf("commit of height %d at %d", h, len(a.values)+1)
	}
	if err := cert.Verify(a.c); err != nil {
		return err
	}
	if id.Sum(content) != cert.Ballot.Value {
		return errors.New("content is not the certified value")
	}
	a.values = append(a.values, cert.Ballot.Value)
	a.contents = append(a.contents, content)
	a.certs = append(a.certs, cert)
	if a.pending > 0 {
		a.pending--
	}
	select {
	case a.changed <- struct{}{}:
	default:
	}
	return nil
}

func (a *app) Decided(_ id.Program, h uint64) ([]byte, *consensus.Certificate, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if h == 0 || h > uint64(len(a.values)) {
		return nil, nil, false
	}
	return a.contents[h-1], a.certs[h-1], true
}

func (a *app) decided() []id.Hash {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]id.Hash(nil), a.values...)
}

// network delivers messages between shells of one process, each through
// its own inbox, dropping what a full inbox or a down node cannot take.
type network struct {
	mu     sync.Mutex
	nodes  map[id.Node]*member
	errors int
}

type member struct {
	node  id.Node
	key   *bls.SecretKey
	db    *pebble.DB
	dir   string
	app   *app
	shell *Shell
	inbox chan delivery
	done  chan struct{}
}

type delivery struct {
	from id.Node
	p    id.Program
	msg  []byte
}

type sender struct {
	n    *network
	from id.Node
}

func (s sender) Send(to id.Node, p id.Program, msg []byte) {
	s.n.mu.Lock()
	defer s.n.mu.Unlock()
	m := s.n.nodes[to]
	if m == nil {
		return
	}
	select {
	case m.inbox <- delivery{s.from, p, msg}:
	default:
	}
}

var program = id.ProgramOf([]byte("agreed"), nil)

// cluster starts k members of one committee.
func cluster(t testing.TB, k int) (*network, []*member) {
	t.Helper()
	n := &network{nodes: make(map[id.Node]*member)}
	var vals []consensus.Validator
	var ms []*member
	for range k {
		sk, err := bls.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		var node id.Node
		rand.Read(node[:])
		ms = append(ms, &member{node: node, key: sk, dir: t.TempDir()})
		vals = append(vals, consensus.Validator{Node: node, BLSKey: sk.PublicKey(), Proof: sk.Prove()})
	}
	c, err := consensus.SelectCommittee(program, vals, k)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		m.app = &app{self: m.node, c: &c, changed: make(chan struct{}, 1)}
		n.start(t, m)
	}
	// Members in committee order: ms[i] is member i.
	byNode := make(map[id.Node]*member)
	for _, m := range ms {
		byNode[m.node] = m
	}
	for i, mem := range c.Members {
		ms[i] = byNode[mem.Node]
	}
	t.Cleanup(func() {
		for _, m := range ms {
			n.stop(m)
		}
	})
	return n, ms
}

func (n *network) start(t testing.TB, m *member) {
	t.Helper()
	db, err := pebble.Open(m.dir, &pebble.Options{Logger: quiet{}})
	if err != nil {
		t.Fatal(err)
	}
	m.db = db
	m.inbox, m.done = make(chan delivery, 1024), make(chan struct{})
	m.shell = New(Config{DB: db, Self: m.node, Key: m.key, App: m.app, Transport: sender{n, m.node}, Timeouts: fast, Resend: 100 * time.Millisecond})
	n.mu.Lock()
	n.nodes[m.node] = m
	n.mu.Unlock()
	go func(sh *Shell, inbox chan delivery, done chan struct{}) {
		defer close(done)
		for d := range inbox {
			if err := sh.Receive(d.from, d.p, d.msg); err != nil && !errors.Is(err, ErrClosed) {
				n.mu.Lock()
				n.errors++
				n.mu.Unlock()
			}
		}
	}(m.shell, m.inbox, m.done)
}

// stop takes m down, keeping its database directory.
func (n *network) stop(m *member) {
	n.mu.Lock()
	delete(n.nodes, m.node)
	if m.shell != nil {
		close(m.inbox) // under the lock: no Send is using it
	}
	n.mu.Unlock()
	if m.shell == nil {
		return
	}
	<-m.done
	m.shell.Close()
	m.db.Close()
	m.shell = nil
}

// request makes h requests pending on every live member and wakes them.
func request(t testing.TB, ms []*member, h int) {
	t.Helper()
	for _, m := range ms {
		if m.shell == nil {
			continue
		}
		m.app.mu.Lock()
		m.app.pending += h
		m.app.mu.Unlock()
		if err := m.shell.Wake(program); err != nil {
			t.Fatal(err)
		}
	}
}

// waitDecided polls until every live member decided h heights, and checks
// they decided the same values.
func waitDecided(t testing.TB, ms []*member, h int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		done := true
		for _, m := range ms {
			if m.shell != nil && len(m.app.decided()) < h {
				done = false
			}
		}
		if done {
			break
		}
		if time.Now().After(deadline) {
			for i, m := range ms {
				st, _ := m.shell.Status(program)
				t.Logf("member %d: decided %d, status %+v", i, len(m.app.decided()), st)
			}
			t.Fatalf("not every live member decided %d heights", h)
		}
		// Wait for a commit anywhere, or poll again: a member restarted
		// with a new app signals on its own channel.
		select {
		case <-ms[0].app.changed:
		case <-ms[len(ms)-1].app.changed:
		case <-time.After(5 * time.Millisecond):
		}
	}
	var first []id.Hash
	for i, m := range ms {
		if m.shell == nil {
			continue
		}
		got := m.app.decided()[:h]
		if first == nil {
			first = got
			continue
		}
		for j := range got {
			if got[j] != first[j] {
				t.Fatalf("member %d decided %.8s at height %d, another %.8s", i, got[j], j+1, first[j])
			}
		}
	}
}

func TestCommitteeDecidesAndFallsIdle(t *testing.T) {
	_, ms := cluster(t, 4)
	request(t, ms, 5)
	waitDecided(t, ms, 5)
	// With nothing pending, every instance falls asleep and the timers
	// drain: an idle program costs nothing.
	deadline := time.Now().Add(20 * time.Second)
	for {
		idle := true
		for _, m := range ms {
			st, _ := m.shell.Status(program)
			if st.Awake || m.shell.timers.len() > 0 {
				idle = false
			}
		}
		if idle {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("members still awake or with timers after the work was done")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestCommitteeSurvivesAMemberDown(t *testing.T) {
	n, ms := cluster(t, 4)
	n.stop(ms[0]) // the leader of height 1, round 0
	request(t, ms, 3)
	waitDecided(t, ms, 3)
}

func TestRestartedMemberCatchesUp(t *testing.T) {
	n, ms := cluster(t, 4)
	n.stop(ms[3])
	request(t, ms, 3)
	waitDecided(t, ms, 3)
	n.start(t, ms[3])
	// The restarted member learns the heights it missed from the others'
	// certificates as soon as work reaches it.
	request(t, ms, 1)
	waitDecided(t, ms, 4)
}

func TestSigningStoreNeverSignsTwice(t *testing.T) {
	db, err := pebble.Open(t.TempDir(), &pebble.Options{Logger: quiet{}})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	sk, _ := bls.GenerateKey(rand.Reader)
	st := store{db}
	b := consensus.Ballot{Program: program, Height: 4, Round: 1, Step: consensus.StepPrecommit, Value: id.Sum([]byte("v"))}
	signs := 0
	sign := func() consensus.SignedBallot { signs++; return consensus.SignBallot(sk, 2, b) }
	first, err := st.signBallot(b, sign, nil)
	if err != nil {
		t.Fatal(err)
	}
	again, err := st.signBallot(b, sign, nil)
	if err != nil || again.Signature != first.Signature || signs != 1 {
		t.Fatalf("second request: %v, signed %d times", err, signs)
	}
	other := b
	other.Value = id.Sum([]byte("w"))
	if _, err := st.signBallot(other, func() consensus.SignedBallot { return consensus.SignBallot(sk, 2, other) }, nil); !errors.Is(err, ErrEquivocation) {
		t.Fatalf("a conflicting ballot: %v, want ErrEquivocation", err)
	}
	_, ballots, _, err := st.height(program, 0, 4)
	if err != nil || len(ballots) != 1 || ballots[0].Ballot != b {
		t.Fatalf("stored: %v %v", ballots, err)
	}
	if err := st.forget(program, 0, 5); err != nil {
		t.Fatal(err)
	}
	if _, ballots, _, _ := st.height(program, 0, 4); len(ballots) != 0 {
		t.Fatalf("height 4 kept after it was decided: %v", ballots)
	}
}

func TestReceiveRejectsBadMessages(t *testing.T) {
	_, ms := cluster(t, 4)
	sh := ms[0].shell
	b := consensus.Ballot{Program: program, Height: 1, Step: consensus.StepPrevote, Value: id.Sum([]byte("v"))}
	good := consensus.SignBallot(ms[1].key, 1, b)
	forged := consensus.SignBallot(ms[2].key, 1, b) // member 1's index, member 2's key
	var stranger id.Node
	rand.Read(stranger[:])
	badContent := consensus.SignProposal(ms[1].key, 1, consensus.Proposal{Program: program, Height: 1, Round: 1, ValidRound: -1, Value: id.Sum([]byte("honest"))})
	for _, tc := range []struct {
		name string
		from id.Node
		msg  []byte
	}{
		{"garbage", ms[1].node, []byte{0xa1, 0x01}},
		{"empty message", ms[1].node, (&Message{}).Encode()},
		{"two kinds", ms[1].node, (&Message{Ballot: &good, SyncFrom: 1}).Encode()},
		{"not a member", stranger, (&Message{Ballot: &good}).Encode()},
		{"forged signature", ms[1].node, (&Message{Ballot: &forged}).Encode()},
		{"oversized", ms[1].node, make([]byte, MaxMessageSize+1)},
		// Member 1 proposes an honest-looking value with a content that is
		// not it: kept, it would get the value judged invalid.
		{"content not of its value", ms[1].node, (&Message{Proposal: &badContent, Content: []byte("junk")}).Encode()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := sh.Receive(tc.from, program, tc.msg); err == nil {
				t.Fatal("accepted")
			}
		})
	}
	if err := sh.Receive(ms[1].node, program, (&Message{Ballot: &good}).Encode()); err != nil {
		t.Fatalf("a good ballot: %v", err)
	}
}

func TestEquivocationIsStoredAsEvidence(t *testing.T) {
	_, ms := cluster(t, 4)
	sh := ms[0].shell
	b := consensus.Ballot{Program: program, Height: 1, Step: consensus.StepPrevote, Value: id.Sum([]byte("v"))}
	c := b
	c.Value = id.Sum([]byte("w"))
	for _, x := range []consensus.Ballot{b, c} {
		sb := consensus.SignBallot(ms[3].key, 3, x)
		if err := sh.Receive(ms[3].node, program, (&Message{Ballot: &sb}).Encode()); err != nil {
			t.Fatal(err)
		}
	}
	ev, err := sh.Evidence(10)
	if err != nil || len(ev) != 1 {
		t.Fatalf("evidence: %v %v", ev, err)
	}
	committee, _, _ := ms[0].app.Committee(program)
	if err := ev[0].Verify(committee); err != nil {
		t.Fatalf("stored evidence does not verify: %v", err)
	}
	if ev[0].First.Member != 3 || !bytes.Equal(ev[0].First.Ballot.Value[:], b.Value[:]) {
		t.Fatalf("evidence %+v", ev[0])
	}
}

func FuzzDecodeMessage(f *testing.F) {
	sk, _ := bls.GenerateKey(bytes.NewReader(make([]byte, 32)))
	b := consensus.Ballot{Program: program, Height: 1, Step: consensus.StepPrevote, Value: id.Sum([]byte("v"))}
	sb := consensus.SignBallot(sk, 1, b)
	sp := consensus.SignProposal(sk, 0, consensus.Proposal{Program: program, Height: 1, ValidRound: -1, Value: b.Value})
	f.Add((&Message{Ballot: &sb}).Encode())
	f.Add((&Message{Proposal: &sp, Polka: []consensus.SignedBallot{sb}, Content: []byte("c")}).Encode())
	f.Add((&Message{SyncFrom: 3}).Encode())
	f.Add(binary.BigEndian.AppendUint64(nil, 7))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := DecodeMessage(data)
		if err != nil {
			return
		}
		if !bytes.Equal(m.Encode(), data) {
			t.Fatal("accepted a non-canonical encoding")
		}
	})
}

// quiet is a pebble logger that keeps tests' output readable.
type quiet struct{}

func (quiet) Infof(string, ...any)              {}
func (quiet) Errorf(string, ...any)             {}
func (quiet) Fatalf(format string, args ...any) { panic(fmt.Sprintf(format, args...)) }
