package nodeproc

import (
	"errors"
	"io/fs"
	"os"
	"strconv"
	"testing"
	"time"
)

// TestCleanupAfterExit has the node die while the test does not receive
// from Done: the cleanup must learn of the exit without reading
// cmd.ProcessState, which the goroutine running Wait writes (a data race
// under -race).
func TestCleanupAfterExit(t *testing.T) {
	bin := Build(t)
	t.Run("killed", func(t *testing.T) {
		p := Start(t, bin, t.TempDir())
		if err := p.Cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		// Wait, without synchronising with the Wait goroutine, until the
		// process is reaped, so that Wait writes cmd.ProcessState before
		// the cleanup runs.
		proc := "/proc/" + strconv.Itoa(p.Cmd.Process.Pid)
		deadline := time.Now().Add(10 * time.Second)
		for {
			if _, err := os.Stat(proc); errors.Is(err, fs.ErrNotExist) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("process %s not reaped after 10s", proc)
			}
			time.Sleep(5 * time.Millisecond) // polling for the exit
		}
	})
	t.Run("done", func(t *testing.T) {
		p := Start(t, bin, t.TempDir())
		if err := p.Cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		<-p.Done
		if !p.Exited() || p.Out.Len() == 0 {
			t.Fatalf("exited %v, %d bytes of output", p.Exited(), p.Out.Len())
		}
	})
}
