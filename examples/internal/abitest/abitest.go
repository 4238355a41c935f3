// Package abitest is a test program that calls every host function through
// the guest SDK and reports what it saw, one line per call. The wasm smoke
// test (examples/wasm_test.go) runs it natively under guesttest and as a
// wasip1 module under wazero and requires identical reports, which proves
// the SDK's imports pass every pointer and length correctly. Test-only.
package abitest

import (
	"encoding/hex"
	"errors"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/onvm-network/onvm/guest"
)

// Handle runs the command named by the first word of input:
//
//	state            state functions, including a value > 1 KiB
//	blob <id>        blob functions on id (text form)
//	misc             log, clock, random, host hashes
//	secp <d> <s> <p> secp256k1 verify and recover (hex arguments)
//	big <n>          an output of n bytes
//	stdout           writes to WASI stdout and stderr
//	sleep            time.Sleep(10ms)
//	fail             returns an error (the call aborts)
//	panic            panics
func Handle(ctx *guest.Context, input []byte) ([]byte, error) {
	head := input[:min(len(input), 256)] // the rest may be padding
	args := strings.Fields(string(head))
	if len(args) == 0 {
		return nil, errors.New("no command")
	}
	var r report
	switch args[0] {
	case "state":
		state(ctx.State, &r)
	case "blob":
		blob(ctx.Blob, []byte(args[1]), &r)
	case "misc":
		misc(ctx, &r)
	case "secp":
		secp(ctx, args[1:], &r)
	case "big":
		n, _ := strconv.Atoi(args[1])
		out := make([]byte, n)
		for i := range min(n, 251) {
			out[i] = byte(i)
		}
		for k := 251; k < n; k *= 2 { // the pattern i mod 251, by doubling
			copy(out[k:], out[:k])
		}
		return out, nil
	case "stdout":
		_, _ = os.Stdout.WriteString("to stdout\n")
		_, _ = os.Stderr.WriteString("to stderr\n")
		r.add("wrote", "ok")
	case "sleep":
		time.Sleep(10 * time.Millisecond)
		r.add("slept", "ok")
	case "fail":
		return nil, errors.New("deliberate failure")
	case "panic":
		panic("deliberate panic")
	default:
		return nil, errors.New("unknown command " + args[0])
	}
	return []byte(r.String()), nil
}

type report struct{ b strings.Builder }

func (r *report) add(op string, vals ...any) {
	r.b.WriteString(op)
	r.b.WriteString(":")
	for _, v := range vals {
		r.b.WriteString(" ")
		switch v := v.(type) {
		case nil:
			r.b.WriteString("nil")
		case error:
			r.b.WriteString("err(" + v.Error() + ")")
		case []byte:
			if v == nil {
				r.b.WriteString("nil")
			} else if len(v) > 64 {
				r.b.WriteString("len=" + strconv.Itoa(len(v)) + " head=" + hex.EncodeToString(v[:8]))
			} else {
				r.b.WriteString("x" + hex.EncodeToString(v))
			}
		case string:
			r.b.WriteString(v)
		case int:
			r.b.WriteString(strconv.Itoa(v))
		case int64:
			r.b.WriteString(strconv.FormatInt(v, 10))
		case bool:
			r.b.WriteString(strconv.FormatBool(v))
		case [32]byte:
			r.b.WriteString(hex.EncodeToString(v[:]))
		case [64]byte:
			r.b.WriteString(hex.EncodeToString(v[:]))
		default:
			r.b.WriteString("?")
		}
	}
	r.b.WriteString("\n")
}

func (r *report) String() string { return r.b.String() }

func state(s guest.State, r *report) {
	big := []byte(strings.Repeat("0123456789", 500))
	r.add("put k1", s.Put([]byte("k/1"), []byte("v1")))
	r.add("put empty", s.Put([]byte("k/e"), nil))
	r.add("put big", s.Put([]byte("k/big"), big))
	r.add("put other", s.Put([]byte("z"), []byte("zz")))
	v, err := s.Get([]byte("k/1"))
	r.add("get k1", v, err)
	v, err = s.Get([]byte("k/e"))
	r.add("get empty", v, err)
	v, err = s.Get([]byte("k/big"))
	r.add("get big", v, err)
	v, err = s.Get([]byte("nope"))
	r.add("get missing", v, err)
	ok, err := s.Exists([]byte("k/e"))
	r.add("exists empty", ok, err)
	n, err := s.Len([]byte("k/big"))
	r.add("len big", n, err)
	keys, err := s.List([]byte("k/"))
	r.add("list k/", strings.Join(toStrings(keys), ","), err)
	r.add("delete k1", s.Delete([]byte("k/1")))
	ok, err = s.Exists([]byte("k/1"))
	r.add("exists deleted", ok, err)
	keys, err = s.List(nil)
	r.add("list all", strings.Join(toStrings(keys), ","), err)
	root, err := s.Root()
	r.add("root", root, err)
}

func toStrings(keys [][]byte) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = string(k)
	}
	return out
}

func blob(b guest.Blobs, id []byte, r *report) {
	data, err := b.Read(id)
	r.add("read", data, err)
	n, err := b.Len(id)
	r.add("len", n, err)
	h, err := b.Hash(id)
	r.add("hash", h, err)
	ok, err := b.Exists(id)
	r.add("exists", ok, err)
	a, err := b.Addr(id)
	r.add("addr", a, err)
	data, err = b.Read(a[:])
	r.add("read raw id", data, err)
	_, err = b.Read(make([]byte, 32))
	r.add("read missing", err)
}

func misc(ctx *guest.Context, r *report) {
	r.add("log", ctx.Log(guest.LevelInfo, "hello from the guest"))
	r.add("log bad level", ctx.Log(guest.Level(9), "x"))
	r.add("now", ctx.NowMs())
	p := make([]byte, 16)
	r.add("random", ctx.Random(p), p)
	d, err := ctx.Hash(guest.SHA256, []byte("abc"))
	r.add("sha256", d, err)
	d, err = ctx.Hash(guest.Keccak256, nil)
	r.add("keccak256", d, err)
}

func secp(ctx *guest.Context, args []string, r *report) {
	var digest [32]byte
	var sig [65]byte
	var pub [64]byte
	unhex(digest[:], args[0])
	unhex(sig[:], args[1])
	unhex(pub[:], args[2])
	ok, err := ctx.Secp256k1Verify(digest, sig, pub)
	r.add("verify", ok, err)
	digest[0] ^= 1
	ok, err = ctx.Secp256k1Verify(digest, sig, pub)
	r.add("verify other digest", ok, err)
	digest[0] ^= 1
	got, err := ctx.Secp256k1Recover(digest, sig)
	r.add("recover", got, err)
}

func unhex(dst []byte, s string) {
	b, _ := hex.DecodeString(s)
	copy(dst, b)
}
