package auth

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/onvm-network/onvm/internal/id"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func memDB(t *testing.T) *pebble.DB {
	t.Helper()
	db, err := pebble.Open("", &pebble.Options{FS: vfs.NewMem()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

var master = bytes.Repeat([]byte{7}, 32)

func newStore(t *testing.T, cfg Config) (*Store, *clock) {
	t.Helper()
	clk := &clock{t: time.UnixMilli(1_700_000_000_000)}
	cfg.Now = clk.Now
	s, err := Open(memDB(t), master, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s, clk
}

// signed builds valid headers for project p at the clock's time.
func signed(p string, secret []byte, clk *clock, nonce, method, target string, body []byte) Headers {
	h := Headers{ProjectID: p, Timestamp: clk.Now().UnixMilli(), Nonce: nonce, BodySHA256: sha(body)}
	h.Signature = Sign(secret, testNode, method, target, h)
	return h
}

func TestStoreCreateListRevokePersist(t *testing.T) {
	db := memDB(t)
	s, err := Open(db, master, Config{})
	if err != nil {
		t.Fatal(err)
	}
	p, secret, err := s.Create("", nil)
	if err != nil || len(p.ID) != 32 || len(secret) != 32 {
		t.Fatalf("Create = %+v, %d-byte secret, %v", p, len(secret), err)
	}
	given := bytes.Repeat([]byte{9}, 32)
	if _, _, err := s.Create("named", given); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		id     string
		secret []byte
		want   error
	}{
		{"named", nil, ErrProjectExists},
		{"bad id!", nil, ErrInvalidProject},
		{"short", []byte{1, 2}, ErrInvalidProject},
		{"zero", make([]byte, 32), ErrInvalidProject},
	} {
		if _, _, err := s.Create(tc.id, tc.secret); !errors.Is(err, tc.want) {
			t.Errorf("Create(%q) = %v, want %v", tc.id, err, tc.want)
		}
	}
	if l := s.List(); len(l) != 2 {
		t.Fatalf("List = %+v", l)
	}
	// Reopen: the same projects, secrets intact.
	s2, err := Open(db, master, Config{})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(s2.projects["named"].secret, given) || len(s2.List()) != 2 {
		t.Fatalf("reopened store lost projects: %+v", s2.List())
	}
	if err := s2.Revoke("named"); err != nil {
		t.Fatal(err)
	}
	if err := s2.Revoke("named"); !errors.Is(err, ErrProjectNotFound) {
		t.Errorf("second revoke = %v", err)
	}
	s3, _ := Open(db, master, Config{})
	if len(s3.List()) != 1 {
		t.Errorf("revocation not persisted: %+v", s3.List())
	}
	// Another master secret: records do not open; they are skipped, and can
	// still be revoked.
	s4, err := Open(db, bytes.Repeat([]byte{8}, 32), Config{})
	if err != nil {
		t.Fatal(err)
	}
	if len(s4.List()) != 0 || len(s4.Skipped()) != 1 {
		t.Fatalf("wrong master: list %v skipped %v", s4.List(), s4.Skipped())
	}
	if err := s4.Revoke(p.ID); err != nil {
		t.Errorf("revoke skipped: %v", err)
	}
}

func TestStoreNeverStoresSecretInClear(t *testing.T) {
	db := memDB(t)
	s, _ := Open(db, master, Config{})
	_, secret, _ := s.Create("p", nil)
	v, closer, err := db.Get(projectKey("p"))
	if err != nil {
		t.Fatal(err)
	}
	defer closer.Close()
	if bytes.Contains(v, secret) {
		t.Fatal("project secret stored in clear")
	}
}

func TestVerify(t *testing.T) {
	s, clk := newStore(t, Config{Skew: time.Minute})
	_, secret, _ := s.Create("p", nil)
	body := []byte("hello")
	tests := []struct {
		name string
		h    func() Headers
		want error
	}{
		{"ok", func() Headers { return signed("p", secret, clk, "nonce-ok-1", "POST", "/x", body) }, nil},
		{"unknown project", func() Headers { return signed("q", secret, clk, "nonce-unk-1", "POST", "/x", body) }, ErrUnknownProject},
		{"bad MAC", func() Headers {
			h := signed("p", secret, clk, "nonce-mac-1", "POST", "/x", body)
			h.Signature[0] ^= 1
			return h
		}, ErrBadSignature},
		{"wrong key", func() Headers { return signed("p", make([]byte, 32), clk, "nonce-key-1", "POST", "/x", body) }, ErrBadSignature},
		{"other path", func() Headers { return signed("p", secret, clk, "nonce-pth-1", "POST", "/y", body) }, ErrBadSignature},
		{"other method", func() Headers { return signed("p", secret, clk, "nonce-mth-1", "GET", "/x", body) }, ErrBadSignature},
		{"body hash changed", func() Headers {
			h := signed("p", secret, clk, "nonce-bdy-1", "POST", "/x", body)
			h.BodySHA256 = sha([]byte("other"))
			return h
		}, ErrBadSignature},
		{"stale", func() Headers {
			h := Headers{ProjectID: "p", Timestamp: clk.Now().Add(-61 * time.Second).UnixMilli(), Nonce: "nonce-old-1", BodySHA256: sha(body)}
			h.Signature = Sign(secret, testNode, "POST", "/x", h)
			return h
		}, ErrTimestamp},
		{"future", func() Headers {
			h := Headers{ProjectID: "p", Timestamp: clk.Now().Add(61 * time.Second).UnixMilli(), Nonce: "nonce-fut-1", BodySHA256: sha(body)}
			h.Signature = Sign(secret, testNode, "POST", "/x", h)
			return h
		}, ErrTimestamp},
		{"edge of window", func() Headers {
			h := Headers{ProjectID: "p", Timestamp: clk.Now().Add(-time.Minute).UnixMilli(), Nonce: "nonce-edg-1", BodySHA256: sha(body)}
			h.Signature = Sign(secret, testNode, "POST", "/x", h)
			return h
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := tt.h()
			target := "/x"
			method := "POST"
			if err := s.Verify(testNode, method, target, h); !errors.Is(err, tt.want) {
				t.Fatalf("Verify = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestVerifyReplay(t *testing.T) {
	s, clk := newStore(t, Config{Skew: time.Minute, NonceTTL: time.Second})
	_, secret, _ := s.Create("p", nil)
	h := signed("p", secret, clk, "nonce-0001", "GET", "/", nil)
	if err := s.Verify(testNode, "GET", "/", h); err != nil {
		t.Fatal(err)
	}
	if err := s.Verify(testNode, "GET", "/", h); !errors.Is(err, ErrReplay) {
		t.Fatalf("replay = %v", err)
	}
	// NonceTTL (1s) is shorter than the window: the nonce is still kept
	// while the timestamp is acceptable.
	clk.Add(59 * time.Second)
	if err := s.Verify(testNode, "GET", "/", h); !errors.Is(err, ErrReplay) {
		t.Fatalf("replay late in the window = %v", err)
	}
	clk.Add(2 * time.Second)
	if err := s.Verify(testNode, "GET", "/", h); !errors.Is(err, ErrTimestamp) {
		t.Fatalf("replay after the window = %v", err)
	}
}

// TestInvalidMACsDoNotFloodNonceCache: requests with a wrong MAC never
// reach the nonce cache (S10), so a flood of them cannot evict a real
// nonce and re-enable its replay.
func TestInvalidMACsDoNotFloodNonceCache(t *testing.T) {
	s, clk := newStore(t, Config{NonceCapacity: 4})
	_, secret, _ := s.Create("p", nil)
	real := signed("p", secret, clk, "real-nonce", "POST", "/execute", []byte("x"))
	if err := s.Verify(testNode, "POST", "/execute", real); err != nil {
		t.Fatal(err)
	}
	for i := range 1000 {
		junk := signed("p", make([]byte, 32), clk, fmt.Sprintf("junk-%06d", i), "POST", "/execute", nil)
		if err := s.Verify(testNode, "POST", "/execute", junk); !errors.Is(err, ErrBadSignature) {
			t.Fatalf("junk %d = %v", i, err)
		}
	}
	if n := s.projects["p"].nonces.len(); n != 1 {
		t.Fatalf("nonce cache holds %d entries, want 1", n)
	}
	if err := s.Verify(testNode, "POST", "/execute", real); !errors.Is(err, ErrReplay) {
		t.Fatalf("replay after flood = %v, want ErrReplay", err)
	}
}

// TestNonceCacheFullRefuses: a full cache refuses new nonces rather than
// evicting live ones; another project is not affected.
func TestNonceCacheFullRefuses(t *testing.T) {
	s, clk := newStore(t, Config{NonceCapacity: 3})
	_, a, _ := s.Create("a", nil)
	_, b, _ := s.Create("b", nil)
	for i := range 3 {
		if err := s.Verify(testNode, "GET", "/", signed("a", a, clk, fmt.Sprintf("nonce-a-%d", i), "GET", "/", nil)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Verify(testNode, "GET", "/", signed("a", a, clk, "nonce-a-9", "GET", "/", nil)); !errors.Is(err, ErrNonceCacheFull) {
		t.Fatalf("over capacity = %v", err)
	}
	if err := s.Verify(testNode, "GET", "/", signed("a", a, clk, "nonce-a-0", "GET", "/", nil)); !errors.Is(err, ErrReplay) {
		t.Fatalf("first nonce forgotten: %v", err)
	}
	if err := s.Verify(testNode, "GET", "/", signed("b", b, clk, "nonce-b-0", "GET", "/", nil)); err != nil {
		t.Fatalf("project b blocked by a's cache: %v", err)
	}
	clk.Add(11 * time.Minute) // past the TTL: entries expire, room again
	if err := s.Verify(testNode, "GET", "/", signed("a", a, clk, "nonce-a-9", "GET", "/", nil)); err != nil {
		t.Fatalf("after expiry = %v", err)
	}
}

func TestRateLimitPerProject(t *testing.T) {
	tests := []struct {
		perMinute, burst int
		admitted         int // in one instant
		refill           time.Duration
	}{
		{1, 0, 1, time.Minute},
		{2, 0, 1, 30 * time.Second},
		{29, 0, 1, 3 * time.Second},
		{600, 0, 20, 100 * time.Millisecond},
		{60, 5, 5, time.Second},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d/min burst %d", tt.perMinute, tt.burst), func(t *testing.T) {
			s, clk := newStore(t, Config{RatePerMinute: tt.perMinute, RateBurst: tt.burst})
			_, a, _ := s.Create("a", nil)
			_, b, _ := s.Create("b", nil)
			n := 0
			try := func(p string, key []byte) error {
				n++
				return s.Verify(testNode, "GET", "/", signed(p, key, clk, fmt.Sprintf("nonce-%06d", n), "GET", "/", nil))
			}
			for i := range tt.admitted {
				if err := try("a", a); err != nil {
					t.Fatalf("request %d: %v", i, err)
				}
			}
			if err := try("a", a); !errors.Is(err, ErrRateLimited) {
				t.Fatalf("over the limit: %v", err)
			}
			if err := try("b", b); err != nil {
				t.Fatalf("project b limited by a: %v", err)
			}
			clk.Add(tt.refill)
			if err := try("a", a); err != nil {
				t.Fatalf("after refill: %v", err)
			}
		})
	}
}

func TestAllowedMethods(t *testing.T) {
	s, clk := newStore(t, Config{AllowedMethods: []string{"get"}})
	_, a, _ := s.Create("a", nil)
	if err := s.Verify(testNode, "GET", "/", signed("a", a, clk, "nonce-get-1", "GET", "/", nil)); err != nil {
		t.Fatal(err)
	}
	if err := s.Verify(testNode, "POST", "/", signed("a", a, clk, "nonce-pst-1", "POST", "/", nil)); !errors.Is(err, ErrMethodDenied) {
		t.Fatalf("POST = %v", err)
	}
}

func TestVerifyConcurrentReplayAdmitsOne(t *testing.T) {
	s, clk := newStore(t, Config{})
	_, a, _ := s.Create("a", nil)
	h := signed("a", a, clk, "same-nonce", "GET", "/", nil)
	var ok sync.WaitGroup
	var mu sync.Mutex
	admitted := 0
	for range 16 {
		ok.Go(func() {
			if s.Verify(testNode, "GET", "/", h) == nil {
				mu.Lock()
				admitted++
				mu.Unlock()
			}
		})
	}
	ok.Wait()
	if admitted != 1 {
		t.Fatalf("%d concurrent copies admitted, want 1", admitted)
	}
}

func TestOpenRecordRejectsTampering(t *testing.T) {
	seal, _ := newSealer(master)
	rec, err := sealRecord(seal, "p", bytes.Repeat([]byte{3}, 32), time.UnixMilli(5), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := openRecord(seal, "p", rec); err != nil {
		t.Fatal(err)
	}
	if _, _, err := openRecord(seal, "q", rec); !errors.Is(err, ErrCorrupt) {
		t.Errorf("record under another id opened: %v", err)
	}
	for i := range rec {
		bad := bytes.Clone(rec)
		bad[i] ^= 0x40
		if _, _, err := openRecord(seal, "p", bad); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("byte %d flipped: %v", i, err)
		}
	}
}

func FuzzOpenRecord(f *testing.F) {
	seal, _ := newSealer(master)
	rec, _ := sealRecord(seal, "p", bytes.Repeat([]byte{3}, 32), time.UnixMilli(5), rand.Reader)
	f.Add("p", rec)
	f.Add("", []byte{})
	f.Fuzz(func(t *testing.T, id string, b []byte) {
		secret, _, err := openRecord(seal, id, b)
		if err == nil && (id != "p" || len(secret) != 32) {
			t.Fatalf("forged record opened for %q", id)
		}
	})
}

// testNode is the node the store tests' requests are signed for.
var testNode = id.Node{0x4e, 0x0d, 0xe1}
