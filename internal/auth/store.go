package auth

import (
	"bytes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/onvm-network/onvm/internal/id"
)

// Config sets the verification rules. The zero value of each field means
// its documented default.
type Config struct {
	// Skew is how far a request's timestamp may be from the node's clock,
	// either way. Default 5 minutes.
	Skew time.Duration
	// NonceTTL is the least time a used nonce is remembered. A nonce is
	// always remembered at least until its timestamp leaves the skew
	// window, so a small value cannot enable a replay. Default 10 minutes.
	NonceTTL time.Duration
	// NonceCapacity bounds each project's remembered nonces; a project
	// over it gets ErrNonceCacheFull until entries expire. Default 100 000.
	NonceCapacity int
	// RatePerMinute is each project's sustained request rate; 0 means no
	// limit.
	RatePerMinute int
	// RateBurst is the bucket size; 0 means max(1, RatePerMinute/30).
	RateBurst int
	// AllowedMethods, when not empty, are the only HTTP methods accepted.
	AllowedMethods []string
	// Now and Rand are seams for tests; nil means the real clock and
	// crypto/rand.
	Now  func() time.Time
	Rand io.Reader
}

func (c *Config) defaults() {
	if c.Skew <= 0 {
		c.Skew = 5 * time.Minute
	}
	if c.NonceTTL <= 0 {
		c.NonceTTL = 10 * time.Minute
	}
	if c.NonceCapacity <= 0 {
		c.NonceCapacity = 100_000
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Rand == nil {
		c.Rand = rand.Reader
	}
}

// Project is what may be shown about a project: never its secret.
type Project struct {
	ID        string    `json:"project_id"`
	CreatedAt time.Time `json:"created_at"`
}

type project struct {
	Project
	secret []byte

	mu     sync.Mutex // guards nonces and bucket
	nonces *nonceCache
	bucket bucket
}

// Store holds the projects of one node. Changes are written to the
// database (synced) and take effect at once. Safe for concurrent use.
type Store struct {
	db    *pebble.DB
	seal  cipher.AEAD
	cfg   Config
	limit limit

	mu       sync.RWMutex
	projects map[string]*project
	skipped  []string
}

// Open loads the projects under a/ from db with the master secret. A
// record that does not open (another master secret, damage) is skipped and
// reported by Skipped; it can still be revoked.
func Open(db *pebble.DB, master []byte, cfg Config) (*Store, error) {
	if len(master) != SecretSize {
		return nil, fmt.Errorf("open auth store: master secret has %d bytes, want %d", len(master), SecretSize)
	}
	cfg.defaults()
	seal, err := newSealer(master)
	if err != nil {
		return nil, err
	}
	s := &Store{db: db, seal: seal, cfg: cfg, limit: newLimit(cfg.RatePerMinute, cfg.RateBurst), projects: map[string]*project{}}
	it, err := db.NewIter(&pebble.IterOptions{
		LowerBound: []byte(projectPrefix),
		UpperBound: []byte("a/p0"), // '0' follows '/'
	})
	if err != nil {
		return nil, fmt.Errorf("open auth store: %w", err)
	}
	for it.First(); it.Valid(); it.Next() {
		id := strings.TrimPrefix(string(it.Key()), projectPrefix)
		secret, created, err := openRecord(seal, id, it.Value())
		if err != nil || !ValidProjectID(id) {
			s.skipped = append(s.skipped, id)
			continue
		}
		s.projects[id] = s.newProject(id, secret, created)
	}
	if err := errors.Join(it.Error(), it.Close()); err != nil {
		return nil, fmt.Errorf("open auth store: %w", err)
	}
	return s, nil
}

func (s *Store) newProject(id string, secret []byte, created time.Time) *project {
	return &project{Project: Project{ID: id, CreatedAt: created}, secret: secret, nonces: newNonceCache(s.cfg.NonceCapacity)}
}

// Skipped returns the ids of records that did not open at Open.
func (s *Store) Skipped() []string { return slices.Clone(s.skipped) }

// Create registers a project and returns its secret. An empty id gets a
// random one (32 hex digits); a nil secret gets 32 random bytes. An
// existing id is ErrProjectExists: a secret is never overwritten or shown
// again.
func (s *Store) Create(id string, secret []byte) (Project, []byte, error) {
	if id == "" {
		b := make([]byte, 16)
		if _, err := io.ReadFull(s.cfg.Rand, b); err != nil {
			return Project{}, nil, fmt.Errorf("create project: %w", err)
		}
		id = hex.EncodeToString(b)
	}
	if !ValidProjectID(id) {
		return Project{}, nil, fmt.Errorf("%w: project id must be 1-%d characters of A-Z a-z 0-9 . _ -", ErrInvalidProject, MaxProjectIDLen)
	}
	if secret == nil {
		secret = make([]byte, SecretSize)
		if _, err := io.ReadFull(s.cfg.Rand, secret); err != nil {
			return Project{}, nil, fmt.Errorf("create project %s: %w", id, err)
		}
	} else if len(secret) != SecretSize {
		return Project{}, nil, fmt.Errorf("%w: project secret must be %d bytes (64 hex digits)", ErrInvalidProject, SecretSize)
	} else if bytes.Equal(secret, make([]byte, SecretSize)) {
		return Project{}, nil, fmt.Errorf("%w: project secret is all zeros", ErrInvalidProject)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.projects[id]; ok {
		return Project{}, nil, fmt.Errorf("create project %s: %w", id, ErrProjectExists)
	}
	created := s.cfg.Now().UTC().Truncate(time.Millisecond)
	rec, err := sealRecord(s.seal, id, secret, created, s.cfg.Rand)
	if err != nil {
		return Project{}, nil, err
	}
	if err := s.db.Set(projectKey(id), rec, pebble.Sync); err != nil {
		return Project{}, nil, fmt.Errorf("create project %s: %w", id, err)
	}
	p := s.newProject(id, bytes.Clone(secret), created)
	s.projects[id] = p
	return p.Project, secret, nil
}

// List returns the projects sorted by id.
func (s *Store) List() []Project {
	s.mu.RLock()
	out := make([]Project, 0, len(s.projects))
	for _, p := range s.projects {
		out = append(out, p.Project)
	}
	s.mu.RUnlock()
	slices.SortFunc(out, func(a, b Project) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// Revoke deletes a project; its requests fail from now on.
func (s *Store) Revoke(id string) error {
	if !ValidProjectID(id) {
		return fmt.Errorf("revoke project: %w", ErrInvalidProject)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	_, known := s.projects[id]
	if !known && !slices.Contains(s.skipped, id) {
		return fmt.Errorf("revoke project %s: %w", id, ErrProjectNotFound)
	}
	if err := s.db.Delete(projectKey(id), pebble.Sync); err != nil {
		return fmt.Errorf("revoke project %s: %w", id, err)
	}
	delete(s.projects, id)
	s.skipped = slices.DeleteFunc(s.skipped, func(x string) bool { return x == id })
	return nil
}

// Verify checks a request's parsed authentication headers (ParseHeaders
// comes first), in this order: the method is allowed, the project exists, the timestamp is within the skew
// window, the MAC over Canonical(node, method, target, h) is right (constant
// time), the nonce is fresh (recorded only now, after the MAC verified),
// and the project's rate limit has a token. The body hash itself is checked
// by the caller as the body is read (ReadBody, VerifyBody).
func (s *Store) Verify(node id.Node, method, target string, h Headers) error {
	if len(s.cfg.AllowedMethods) > 0 && !slices.ContainsFunc(s.cfg.AllowedMethods, func(m string) bool { return strings.EqualFold(m, method) }) {
		return fmt.Errorf("%w: %s", ErrMethodDenied, method)
	}
	s.mu.RLock()
	p := s.projects[h.ProjectID]
	s.mu.RUnlock()
	if p == nil {
		return fmt.Errorf("%w: %q", ErrUnknownProject, h.ProjectID)
	}
	now := s.cfg.Now()
	nowMs := now.UnixMilli()
	skew := s.cfg.Skew.Milliseconds()
	if d := h.Timestamp - nowMs; d > skew || d < -skew {
		return fmt.Errorf("%w: x-timestamp is %s from the node's clock (allowed ±%s)",
			ErrTimestamp, time.Duration(d)*time.Millisecond, s.cfg.Skew)
	}
	want := Sign(p.secret, node, method, target, h)
	if !hmac.Equal(want[:], h.Signature[:]) {
		return ErrBadSignature
	}
	expiry := max(h.Timestamp+skew, nowMs+s.cfg.NonceTTL.Milliseconds()) + 1
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.nonces.add(h.Nonce, expiry, nowMs); err != nil {
		return err
	}
	if !p.bucket.take(s.limit, now) {
		return fmt.Errorf("%w: %d requests a minute", ErrRateLimited, s.cfg.RatePerMinute)
	}
	return nil
}
