package replica

import (
	"context"
	"errors"
	"time"
)

// watched runs call while it pings the member that serves it every
// interval, and cancels call with the ping's error once the member stops
// answering. A member that answered a ping a moment ago and then froze
// would otherwise hold a forwarded call for the whole forwarding
// deadline; watched gives up on it in about two intervals, so the sender
// tries the next member.
func watched[T any](ctx context.Context, interval time.Duration, reach func(context.Context) error, call func(context.Context) (T, error)) (T, error) {
	cctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	go func() {
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-cctx.Done():
				return
			case <-t.C:
				if err := reach(cctx); err != nil && cctx.Err() == nil {
					cancel(err)
					return
				}
			}
		}
	}()
	out, err := call(cctx)
	if err != nil && cctx.Err() != nil && ctx.Err() == nil {
		if cause := context.Cause(cctx); cause != nil && !errors.Is(cause, context.Canceled) {
			var zero T
			return zero, cause
		}
	}
	return out, err
}
