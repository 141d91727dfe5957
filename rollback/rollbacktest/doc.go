// Package rollbacktest is a test kit for games built on package rollback and
// for lyn itself. Network is an in-memory network whose Endpoints are
// rollback.Transports: every directed link can lose (independently or in
// bursts), delay, jitter, duplicate and reorder messages, or be cut, all
// drawn from one seeded generator so that a failing run replays exactly from
// its seed, with time taken from a FakeClock rather than the wall clock.
// Game is a small deterministic reference game (integer physics, a PRNG in
// its state) with Input as its button bitmask and InputGen to generate
// human-like inputs; NondeterministicGame is the same game with a deliberate
// bug from a known frame on, for checking that sync-tests and desync
// detection catch it.
package rollbacktest
