package blob

import (
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/onvm-network/onvm/internal/id"
)

// recover brings the directory and the records back into agreement after a
// crash, and counts the complete blobs. The invariants it restores:
//
//   - no temporary files (an interrupted Put or import start);
//   - every blob file has a record (a file without one is an interrupted Put
//     or Delete: removed);
//   - a complete record has its final file of the right length; otherwise the
//     record is marked incomplete and whatever file there is kept as a
//     partial, for BeginImport to reuse its good groups;
//   - an incomplete record has at most a partial file (a crash inside
//     Commit leaves the renamed final file, which goes back to partial).
//
// It does not read blob contents: every read verifies them anyway.
func (s *Store) recover() error {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return err
	}
	ours := make(map[string]bool) // blob and partial files not yet matched with a record
	for _, e := range entries {
		name := e.Name()
		switch {
		case strings.HasPrefix(name, tmpPrefix):
			s.removeStale(name, "temporary")
		case e.Type().IsRegular() && isBlobName(name):
			ours[name] = true
		}
	}
	err = s.eachRecord(func(b id.Blob, r record) error {
		final := id.Hash(b).String()
		part := final + partSuffix
		hasFinal, hasPart := ours[final], ours[part]
		delete(ours, final)
		delete(ours, part)
		if r.Complete && hasFinal && fileHasSize(s.finalPath(b), r.Size+OutboardSize(r.Size)) {
			s.counted(r, 1)
			if hasPart {
				s.removeStale(part, "superseded partial")
			}
			return nil
		}
		if hasFinal {
			if hasPart {
				s.removeStale(part, "superseded partial")
			}
			if err := os.Rename(s.finalPath(b), s.partPath(b)); err != nil {
				return fmt.Errorf("set aside %s: %w", final, err)
			}
		}
		if r.Complete {
			s.log.Warn("blob file missing or truncated, marked incomplete", "blob", b)
			r.Complete = false
			return s.putRecord(b, r)
		}
		return nil
	}, func(b id.Blob, err error) {
		s.log.Error("unreadable blob record removed", "blob", b, "err", err)
		if err := s.deleteRecord(b); err != nil {
			s.log.Error("remove unreadable blob record", "blob", b, "err", err)
		}
	})
	if err != nil {
		return err
	}
	for name := range ours {
		s.removeStale(name, "orphan")
	}
	return syncDir(s.dir)
}

func (s *Store) removeStale(name, kind string) {
	if err := removeIfExists(filepath.Join(s.dir, name)); err != nil {
		s.log.Warn("remove stale blob file", "file", name, "kind", kind, "err", err)
		return
	}
	s.log.Info("removed stale blob file", "file", name, "kind", kind)
}

// isBlobName reports whether name is a blob or partial file name: 64
// lowercase hex digits, optionally followed by partSuffix.
func isBlobName(name string) bool {
	name = strings.TrimSuffix(name, partSuffix)
	if len(name) != 2*id.Size || strings.ToLower(name) != name {
		return false
	}
	_, err := hex.DecodeString(name)
	return err == nil
}
