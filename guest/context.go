package guest

import "unicode/utf8"

// Handler is a program's entrypoint: it receives the call's input and
// returns its output. A non-nil error aborts the call (see the package
// documentation).
type Handler func(ctx *Context, input []byte) ([]byte, error)

var registered Handler

// Handle registers the handler that the exported entrypoint onvm_main runs.
// Call it once, from an init function. It panics if called twice, which is a
// programming error found on the first run.
func Handle(h Handler) {
	if registered != nil {
		panic("guest: Handle called twice")
	}
	registered = h
}

// Registered returns the handler passed to Handle, or nil.
func Registered() Handler { return registered }

// Context gives a handler access to the node for the duration of one call.
// It must not be retained after the handler returns.
type Context struct {
	// State is the program's key-value store.
	State State
	// Blob reads content-addressed blobs.
	Blob Blobs

	host Host
}

// NewContext returns a Context backed by h. Programs never need it: the SDK
// builds the Context for onvm_main. Tests use it through package guesttest.
func NewContext(h Host) *Context {
	return &Context{State: State{h: h}, Blob: Blobs{h: h}, host: h}
}

// Level is a log severity understood by onvm_log.
type Level int32

// Log levels. The host has no error level: a failure is a returned error.
const (
	LevelTrace Level = 0
	LevelDebug Level = 1
	LevelInfo  Level = 2
	LevelWarn  Level = 3
)

// Log writes msg to the call's log at the given level. msg must be valid
// UTF-8. Writing to os.Stdout or os.Stderr (fmt.Println) also lands in the
// call's log.
func (c *Context) Log(level Level, msg string) error {
	if !utf8.ValidString(msg) {
		return hostErr("onvm_log", -3)
	}
	if rc := c.host.Log(int32(level), []byte(msg)); rc != 0 {
		return hostErr("onvm_log", int64(rc))
	}
	return nil
}

// NowMs returns the call's logical timestamp in Unix milliseconds: the same
// on every node that runs the call. time.UnixMilli(ctx.NowMs()) converts it;
// the SDK itself avoids package time, whose dependencies would add ~300 KB
// to every program. (time.Now reads the same logical clock through WASI.)
func (c *Context) NowMs() int64 { return c.host.NowMs() }

// Random fills p from the call's deterministic random stream (seeded by the
// node from the request, identical on every node). It is not secret from
// anyone who knows the request.
func (c *Context) Random(p []byte) error {
	if rc := c.host.RandomBytes(p); rc != 0 {
		return hostErr("onvm_random_bytes", int64(rc))
	}
	return nil
}
