// Package wire holds the JSON bodies of an ONVM node's HTTP API: one Go
// type per request and answer, the error codes, and the job states.
//
// The node (internal/api) encodes these types and the public client
// (package client) decodes them, so the two cannot drift apart; docs/api.md
// describes the same fields for people. Ids travel in their text forms
// (blob<hex>, prog<hex>, bare hex), so the types are plain strings and
// numbers a program outside this module can use.
//
// The package is data only: it must not do I/O and must not import anything
// but the standard library.
package wire
