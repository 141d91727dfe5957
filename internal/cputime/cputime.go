// Package cputime reads the CPU time the whole process has used (user and
// system, every thread): on a shared machine it measures a program's own
// cost where wall time also measures its neighbours. The bench and the
// demo's headless mode report it.
package cputime

import "time"

// Process returns the process's CPU time so far, and false where the
// platform does not say (js/wasm, plan9).
func Process() (time.Duration, bool) { return process() }
