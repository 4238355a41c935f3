package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// CookieFile is the admin cookie's name in the data directory. The running
// node writes a fresh random cookie there at every start (mode 0600) and
// removes it at shutdown; whoever can read the data directory can manage
// projects through the node's loopback admin routes.
const CookieFile = "admin.cookie"

// HeaderAdminCookie carries the cookie on admin requests.
const HeaderAdminCookie = "X-Admin-Cookie"

// WriteCookie creates a new random cookie in dir, replacing any old one,
// and returns it.
func WriteCookie(dir string) (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("admin cookie: %w", err)
	}
	c := hex.EncodeToString(b)
	path := filepath.Join(dir, CookieFile)
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("admin cookie: %w", err)
	}
	if err := writeSecretFile(path, []byte(c+"\n")); err != nil {
		return "", fmt.Errorf("admin cookie: %w", err)
	}
	return c, nil
}

// ReadCookie returns the cookie of the node running on dir.
func ReadCookie(dir string) (string, error) {
	b, err := os.ReadFile(filepath.Join(dir, CookieFile))
	if err != nil {
		return "", fmt.Errorf("admin cookie: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

// RemoveCookie deletes dir's cookie file if it holds cookie (a newer node
// may have replaced it).
func RemoveCookie(dir, cookie string) error {
	got, err := ReadCookie(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil || !CookieEqual(got, cookie) {
		return nil
	}
	if err := os.Remove(filepath.Join(dir, CookieFile)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("admin cookie: %w", err)
	}
	return nil
}

// CookieEqual compares two cookies in constant time; an empty one never
// matches.
func CookieEqual(want, got string) bool {
	if want == "" || got == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(want), []byte(got)) == 1
}
