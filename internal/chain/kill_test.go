package chain

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/cockroachdb/pebble/v2"

	"github.com/onvm-network/onvm/client"
	"github.com/onvm-network/onvm/internal/id"
	"github.com/onvm-network/onvm/internal/nodeproc"
	"github.com/onvm-network/onvm/internal/state"
)

// TestKillDuringExecutions kill -9s a node during a burst of kvstore puts,
// restarts it and checks that every committed height has its receipt, its
// writes and its root, that every acknowledged put is among them, and that
// nothing else is stored: heights are contiguous, receipts chain root to
// root, replaying the stored writes reproduces every root, and the root
// recomputed from the listed state is the head's.
func TestKillDuringExecutions(t *testing.T) {
	bin := nodeproc.Build(t)
	dir := t.TempDir()
	if out, err := exec.Command(bin, "init", "--data-dir", dir, "--allow-plaintext-identity").CombinedOutput(); err != nil {
		t.Fatalf("init: %v\n%s", err, out)
	}
	n := nodeproc.Start(t, bin, dir)
	code := sample(t, "kvstore")
	prog, err := n.Client.Deploy(t.Context(), client.DeployRequest{Wasm: code, Entrypoint: "onvm_main", Salt: []byte("kill")})
	if err != nil {
		t.Fatal(err)
	}
	p := prog.ID
	// The first execution compiles the module; do it before the burst.
	if _, err := n.Client.Execute(t.Context(), client.ExecuteRequest{ProgramID: p, Input: []byte(`{"op":"stats"}`)}); err != nil {
		t.Fatal(err)
	}

	type ack struct {
		height  uint64
		receipt string
	}
	var (
		mu    sync.Mutex
		acked []ack
		count atomic.Int64
		wg    sync.WaitGroup
	)
	reached := make(chan struct{})
	var once sync.Once
	for w := range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				in := fmt.Sprintf(`{"op":"put","key":"w%d-%d","data_base64":"dmFsdWU="}`, w, i)
				res, err := n.Client.Execute(t.Context(), client.ExecuteRequest{ProgramID: p, Input: []byte(in)})
				if err != nil {
					return // the node is gone
				}
				mu.Lock()
				acked = append(acked, ack{res.Height, res.ReceiptID})
				mu.Unlock()
				if count.Add(1) == 40 {
					once.Do(func() { close(reached) })
				}
			}
		})
	}
	select {
	case <-reached:
	case err := <-n.Done:
		t.Fatalf("node exited: %v\n%s", err, n.Out.String())
	}
	if err := n.Cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-n.Done
	wg.Wait()

	// Restart: the acknowledged transitions are there, heights contiguous,
	// roots chained, and the node keeps executing from the next height.
	n = nodeproc.Start(t, bin, dir)
	var receipts []client.ReceiptSummary
	for cursor := ""; ; {
		page, err := n.Client.Receipts(t.Context(), p, cursor, 1000)
		if err != nil {
			t.Fatal(err)
		}
		receipts = append(receipts, page.Receipts...)
		if page.NextCursor == nil {
			break
		}
		cursor = *page.NextCursor
	}
	prev := state.EmptyRoot.String()
	byHeight := map[uint64]string{}
	for i, r := range receipts {
		if r.Height != uint64(i+1) || r.StateRootIn != prev {
			t.Fatalf("receipt %d: height %d, root in %s, want %d, %s", i, r.Height, r.StateRootIn, i+1, prev)
		}
		prev = r.StateRootOut
		byHeight[r.Height] = r.ReceiptID
	}
	for _, a := range acked {
		if byHeight[a.height] != a.receipt {
			t.Fatalf("acknowledged height %d (receipt %s) lost after kill -9", a.height, a.receipt)
		}
	}
	top := uint64(len(receipts))
	sr, err := n.Client.StateRoot(t.Context(), p, nil, client.StateQuery{})
	if err != nil || *sr.Height != top || sr.Root != prev {
		t.Fatalf("state-root %+v (%v), want height %d root %s", sr, err, top, prev)
	}
	res, err := n.Client.Execute(t.Context(), client.ExecuteRequest{ProgramID: p, Input: []byte(`{"op":"stats"}`)})
	if err != nil || res.Height != top+1 {
		t.Fatalf("execution after restart: %+v %v", res, err)
	}
	t.Logf("%d acknowledged, %d committed before the kill", len(acked), top)
	if err := n.Cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	if err := <-n.Done; err != nil {
		t.Fatalf("node exit: %v\n%s", err, n.Out.String())
	}
	checkStore(t, filepath.Join(dir, "db"), id.ProgramOf(code, []byte("kill")), top+1)
}

// checkStore opens a stopped node's database and checks program p's chain
// down to the records: heights 1..top each with receipt and writes that
// replay to its roots, the state's entries hashing to the head root, and no
// stray index, buffered or receipt entries.
func checkStore(t *testing.T, dbDir string, p id.Program, top uint64) {
	t.Helper()
	db, err := pebble.Open(dbDir, &pebble.Options{Logger: quietLog{}})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	st, err := state.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	e := &Engine{db: db, state: st}
	head, err := e.readHead(p)
	if err != nil || head.Height != top {
		t.Fatalf("head %+v (%v), want height %d", head, err, top)
	}

	// Replay every stored transition's writes into a fresh store.
	fresh, err := pebble.Open(filepath.Join(t.TempDir(), "db"), &pebble.Options{Logger: quietLog{}})
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Close()
	rs, err := state.Open(fresh)
	if err != nil {
		t.Fatal(err)
	}
	root := state.EmptyRoot
	for h := uint64(1); h <= top; h++ {
		rec, err := e.record(p, h, true)
		if err != nil {
			t.Fatalf("height %d: %v", h, err)
		}
		r := &rec.Receipt.Receipt
		if r.StateRootIn != root || state.WriteDigest(rec.Writes) != r.WriteDigest || !rec.HasOutput {
			t.Fatalf("height %d: records disagree with the receipt", h)
		}
		b := fresh.NewBatch()
		if root, err = rs.Apply(b, p, root, rec.Writes); err != nil {
			t.Fatal(err)
		}
		if err := b.Commit(pebble.NoSync); err != nil {
			t.Fatal(err)
		}
		if root != r.StateRootOut {
			t.Fatalf("height %d: writes replay to %s, receipt says %s", h, root, r.StateRootOut)
		}
	}
	if root != head.Root {
		t.Fatalf("replayed root %s, head %s", root, head.Root)
	}

	// The listed state hashes to the head root: nothing more, nothing less.
	var all []state.Write
	if err := st.Entries(p, nil, func(k, v []byte) bool {
		all = append(all, state.Write{Key: bytes.Clone(k), Value: bytes.Clone(v)})
		return true
	}); err != nil {
		t.Fatal(err)
	}
	other := id.Program{0xff}
	b := fresh.NewBatch()
	recomputed, err := rs.Apply(b, other, state.EmptyRoot, all)
	if err != nil {
		t.Fatal(err)
	}
	b.Close()
	if recomputed != head.Root {
		t.Fatalf("root of the %d listed entries is %s, head %s", len(all), recomputed, head.Root)
	}

	// No record beyond the head: receipts, writes, outputs and indexes
	// number exactly top, nothing is buffered.
	for _, ns := range []string{nsReceipt, nsWrites, nsOutput, nsFuture} {
		want := int(top)
		if ns == nsFuture {
			want = 0
		}
		if got := countKeys(t, db, key(ns, p[:])); got != want {
			t.Fatalf("%s: %d records, want %d", ns, got, want)
		}
	}
	for _, ns := range []string{nsByID, nsByReq} {
		if got := countKeys(t, db, []byte(ns)); got != int(top) {
			t.Fatalf("%s: %d index entries, want %d", ns, got, top)
		}
	}
}

func countKeys(t *testing.T, db *pebble.DB, prefix []byte) int {
	t.Helper()
	upper := bytes.Clone(prefix)
	upper[len(upper)-1]++
	it, err := db.NewIter(&pebble.IterOptions{LowerBound: prefix, UpperBound: upper})
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	n := 0
	for ok := it.First(); ok; ok = it.Next() {
		n++
	}
	return n
}

type quietLog struct{}

func (quietLog) Infof(string, ...any)  {}
func (quietLog) Errorf(string, ...any) {}
func (quietLog) Fatalf(format string, args ...any) {
	panic(fmt.Sprintf(format, args...))
}
