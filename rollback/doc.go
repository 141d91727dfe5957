// Package rollback is lyn's deterministic rollback engine.
//
// A game implements Game (Save, Load, Advance). A Session runs it with other
// peers: every tick the game adds its local players' inputs and calls
// AdvanceFrame; the session sends the inputs to the other peers through a
// Transport, predicts the inputs that have not arrived, and when a real input
// differs from its prediction it loads the last correct state and advances
// again to the present (a rollback) before advancing the new frame. Every
// input handed to Game.Advance says whether it is Confirmed, Predicted or
// from a Disconnected player.
//
// The package is pure: no I/O, no goroutines, no clock of its own (Config.Clock
// is injected) and no encoding. netcode carries Messages over WebRTC or UDP;
// rollbacktest carries them in memory, with chaos, for tests.
package rollback
