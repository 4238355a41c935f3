package chain

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/onvm-network/onvm/internal/consensus"
	"github.com/onvm-network/onvm/internal/id"
	"github.com/onvm-network/onvm/internal/wasm"
)

// BenchmarkTransition splits an execution's cost: the guest run (the
// baseline every ratio is taken against: raw runtime.Run of echo), the
// engine's own work on top of it (receipt signature, state apply, one
// durable batch), whole executions serial and across programs, and the
// replication path.
//
//	go test ./internal/chain -run '^$' -bench Transition -benchtime 200x
func BenchmarkTransition(b *testing.B) {
	e := newEnv(b, 1)
	echo := e.deploy(b, sample(b, "echo"), "onvm_main", "bench")
	m, _ := e.engine.Manifest(echo)
	code, err := e.engine.loadCode(context.Background(), m.Body.Instrumented)
	if err != nil {
		b.Fatal(err)
	}
	e.exec(b, echo, "warm")

	b.Run("raw-run-echo", func(b *testing.B) {
		// CodeHash given, as Execute does: hashing 4 MB would cost ~0.7 ms.
		call := wasm.Call{Code: code, CodeHash: m.Body.Instrumented.Hash(), Entrypoint: "onvm_main", Input: []byte("hello world")}
		for b.Loop() {
			if _, err := e.engine.rt.Run(context.Background(), call); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("sign-receipt", func(b *testing.B) {
		bal := consensus.Ballot{Program: echo, Height: 1, Step: consensus.StepPrecommit}
		for b.Loop() {
			bal.Height++
			_ = consensus.SignBallot(e.keys.BLS, 0, bal)
		}
	})
	for _, tc := range []struct {
		name   string
		writes int
	}{{"commit-echo-no-writes", 0}, {"commit-kvstore-put-2-writes", 2}} {
		b.Run(tc.name, func(b *testing.B) {
			benchCommit(b, e, echo, tc.writes)
		})
	}
	b.Run("execute-echo-serial", func(b *testing.B) {
		for b.Loop() {
			e.exec(b, echo, "hello world")
		}
	})
	b.Run("execute-echo-parallel-1-program", func(b *testing.B) {
		b.SetParallelism(4) // 4 × GOMAXPROCS callers, as the HTTP benchmark's clients
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				e.exec(b, echo, "hello world")
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "exec/s")
	})
	b.Run("execute-kvstore-put-parallel-1-program", func(b *testing.B) {
		kv := e.deploy(b, sample(b, "kvstore"), "onvm_main", "kv-bench")
		e.exec(b, kv, `{"op":"stats"}`)
		var n atomic.Int64
		b.ResetTimer()
		b.SetParallelism(4)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				e.exec(b, kv, fmt.Sprintf(`{"op":"put","key":"k%d","data_base64":"dmFsdWU="}`, n.Add(1)))
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "exec/s")
	})
	b.Run("execute-echo-parallel-4-programs", func(b *testing.B) {
		ps := make([]id.Program, 4)
		for i := range ps {
			ps[i] = e.deploy(b, sample(b, "echo"), "onvm_main", fmt.Sprint("p", i))
			e.exec(b, ps[i], "warm")
		}
		var n atomic.Int64
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				e.exec(b, ps[n.Add(1)%4], "hello world")
			}
		})
	})
	b.Run("apply-finalized-kvstore-put", func(b *testing.B) {
		a := newEnv(b, 3)
		kv := a.deploy(b, sample(b, "kvstore"), "onvm_main", "kv")
		for i := range b.N {
			a.exec(b, kv, fmt.Sprintf(`{"op":"put","key":"k%d","data_base64":"djE="}`, i))
		}
		ts, _, err := a.engine.Transitions(kv, 1, b.N)
		if err != nil {
			b.Fatal(err)
		}
		r := newEnv(b, 4)
		mm, _ := a.engine.Manifest(kv)
		if _, _, err := r.catalog.Put(context.Background(), mm); err != nil {
			b.Fatal(err)
		}
		b.ResetTimer()
		for _, t := range ts {
			if _, err := r.engine.ApplyFinalized(context.Background(), t); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// benchCommit runs the engine's part of a transition with a canned guest
// result of n writes: apply, sign, stage, commit and wait for the sync.
func benchCommit(b *testing.B, e *env, p id.Program, n int) {
	m, _ := e.engine.Manifest(p)
	c := e.engine.chain(p)
	member, err := e.engine.canFinalize(&m.Body.Committee)
	if err != nil {
		b.Fatal(err)
	}
	i := 0
	for b.Loop() {
		i++
		res := &wasm.Result{Output: []byte("HELLO WORLD"), FuelUsed: 1000}
		for w := range n {
			res.Writes = append(res.Writes, wasm.Write{Key: fmt.Appendf(nil, "k%d-%d", i, w), Value: []byte("value")})
		}
		c.mu.Lock()
		head, err := e.engine.headLocked(p, c)
		if err != nil {
			b.Fatal(err)
		}
		in := callInput{height: head.Height + 1, timestamp: head.Timestamp + 1, requestID: id.Hash{byte(i)}}
		_, newHead, batch, err := e.engine.commit(p, head, &m.Body, member, in, res)
		if err != nil {
			b.Fatal(err)
		}
		c.head = newHead
		c.mu.Unlock()
		if err := batch.SyncWait(); err != nil {
			b.Fatal(err)
		}
		batch.Close()
	}
}
