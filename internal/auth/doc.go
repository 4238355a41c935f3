// Package auth authenticates RPC requests with project credentials: the
// project store (project secrets sealed under a master secret, kept in the
// node's database under the a/ prefix), the master secret file, the
// signed-request format (headers, canonical string, HMAC-SHA256), request
// verification with a clock-skew window, a per-project replay cache and a
// per-project token-bucket rate limit, body-hash checks for buffered and
// streamed bodies, and the admin cookie that guards project management.
//
// Everything here is independent of HTTP serving: internal/api turns
// requests into calls of Store.Verify and maps the errors of errors.go to
// statuses. The package must never log, return or format a secret (project
// secret, master secret, MAC key, admin cookie) in an error or a String
// method, and must never record a nonce before the request's MAC verified.
package auth
