package main

import "runtime/debug"

// serverGCPercent is the garbage collector's target for a serving node
// when the operator has not chosen one with GOGC: the heap may grow to
// five times what is live before a collection, against twice with Go's
// default of 100.
//
// A node holds little: no users, sessions or tokens stay in memory, only
// the configuration cache, so its live heap is a few MiB and, at the
// default, Go's floor (a 4 MiB target) makes it collect dozens of times a
// second under load, each cycle paying the same fixed costs (scanning
// goroutine stacks and the binary's globals, shrinking and regrowing
// stacks). At 400 the floor is 16 MiB. Measured with scripts/bench.sh on
// SQLite, server CPU per request: ES256 client_credentials 6,080 → 7,767
// per second, ES256 refresh 2,271 → 2,844; memory after the load 41 → 49 MiB,
// idle unchanged. No memory limit is set: the password hash slots are
// sized from GOMEMLIMIT when an operator sets one (internal/authn).
const serverGCPercent = 400

// tuneGC applies serverGCPercent unless GOGC is set, which the runtime has
// already applied (including GOGC=off).
func tuneGC(getenv func(string) string) {
	if getenv("GOGC") != "" {
		return
	}
	debug.SetGCPercent(serverGCPercent)
}
