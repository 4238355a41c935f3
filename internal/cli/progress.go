package cli

import (
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// bar is a progress bar on stderr, or nothing when stderr is not a
// terminal.
type bar struct{ pb *progressbar.ProgressBar }

func (e *env) progress(size int64, what string) bar {
	f, ok := e.stderr.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return bar{}
	}
	return bar{pb: progressbar.NewOptions64(size,
		progressbar.OptionSetWriter(f),
		progressbar.OptionSetDescription(what),
		progressbar.OptionShowBytes(true),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionClearOnFinish(),
	)}
}

// reader counts what r yields on the bar.
func (b bar) reader(r io.Reader) io.Reader {
	if b.pb == nil {
		return r
	}
	pr := progressbar.NewReader(r, b.pb)
	return &pr
}

func (b bar) finish() {
	if b.pb != nil {
		_ = b.pb.Finish()
	}
}
