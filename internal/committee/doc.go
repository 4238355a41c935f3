// Package committee is the shell around the agreement core (internal/bft)
// for the committees this node sits on: one machine per program with work,
// the signing store that makes a member's votes survive a crash, one timer
// goroutine for all of them, and the messages members exchange.
//
// The shell owns what the core must not do: it signs, persists before
// sending, re-sends from storage rather than signing again, turns the
// core's timers into wake-ups, asks the application for values and
// verdicts, and hands decided heights with their certificates to it in
// order. It knows nothing of WebAssembly, state or the DAG: the node wires
// an App (the chain engine) and a Transport (the p2p host) in.
package committee
