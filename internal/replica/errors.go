package replica

import "errors"

// Errors. Returned errors wrap them with the operation and the id.
var (
	// ErrFetchLimited reports an on-demand fetch refused because too many
	// are running or starting: retry later.
	ErrFetchLimited = errors.New("too many blob fetches in progress")
	// ErrProvidersUnreachable reports a blob this node lacks whose known
	// providers answered none of its requests: retry later.
	ErrProvidersUnreachable = errors.New("no provider of the blob is reachable")
	// ErrFetchPending reports an on-demand fetch still running when the
	// request's wait ran out; it goes on in the background.
	ErrFetchPending = errors.New("blob is being fetched from peers")
	// ErrProgramPending reports a program whose manifest has replicated
	// but whose code is still being fetched and verified.
	ErrProgramPending = errors.New("program code is being fetched and verified")
	// ErrLeaderUnavailable reports an execution this node forwards to the
	// program's committee and no member answered.
	ErrLeaderUnavailable = errors.New("no committee member of the program answered")
	// ErrBadForward reports a forwarded answer that does not verify: a
	// receipt not signed by the committee, an output that does not match
	// it, or bytes that do not decode.
	ErrBadForward = errors.New("forwarded execution answer does not verify")
)
