// Package bft is the agreement core of a program's committee: the
// Tendermint algorithm (Buchman, Kwon, Milosevic, "The latest gossip on BFT
// consensus", arXiv 1807.04938, Algorithm 1) as a pure state machine.
//
// A Machine decides one value per height among the n members of a fixed
// committee, tolerating members holding less than a third of the weight
// that behave arbitrarily, under partial synchrony. Every input — a
// proposal, a vote, a timeout, the wish to make progress — is a method
// call; every effect — a message to sign and send, a timer to set, a value
// to build, a decision, evidence of equivocation — is an Output the caller
// drains and acts on. The package does no I/O, keeps no clock and starts no
// goroutine, so a test drives it step by step and a simulation drives many
// of them through seeded schedules.
//
// The caller (the shell) owns what needs the outside world:
//   - it authenticates messages before handing them in (From is a member
//     index it has checked against a signature);
//   - it persists every message the machine sends before sending it, and
//     after a restart hands them back with Restore, so that a member never
//     signs two values for one (height, round, step);
//   - it decides whether a proposed value is valid (for ONVM: re-executing
//     the proposed transitions against its own state gives the same
//     receipts) and builds the values the machine asks for;
//   - it resends its own messages of the current round while the machine
//     is awake, so lost messages are not fatal.
//
// A machine with nothing to do costs nothing: after a decision, or when
// created, it sleeps — no proposal, no timer — until Wake is called (the
// shell has a request waiting) or a message of its height arrives. This is
// what lets a node hold thousands of idle programs.
package bft
