package blob

import (
	"os"

	"golang.org/x/sys/unix"
)

// startWriteback asks the kernel to start writing f's dirty pages in
// [off, off+n) to disk now, without waiting for them: the final fsync of a
// large blob then finds most of it written already, instead of the whole
// blob still in the page cache (measured in docs/rationale/blob.md). It
// promises nothing about durability; only fsync does. Errors are ignored:
// this is a hint.
func startWriteback(f *os.File, off, n int64) {
	_ = unix.SyncFileRange(int(f.Fd()), off, n, unix.SYNC_FILE_RANGE_WRITE)
}
