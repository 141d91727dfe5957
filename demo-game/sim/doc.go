// Package sim is the lyn demo's deterministic simulation: a sumo arena for 1
// to 8 players. Each player steers a disc on a round platform that shrinks
// during every round; discs accelerate in the held direction, dash on a press
// of Dash (with a cooldown) and bounce off each other, so the game is all
// quick, direct inputs whose timing matters — exactly what rollback makes
// feel local. A disc whose centre leaves the platform is out of the round;
// the last one standing scores, and the first to WinScore wins the match.
//
// Game implements rollback.Game[Input]; Codec encodes Input. The state is
// integers only (Fixed is 16.16 fixed point), with a SplitMix64 generator
// inside it, no maps and no clock, so every peer computes the same frames
// bit for bit. Save and Load are a flat little-endian record of at most
// MaxStateSize bytes; Load validates every field and returns an error
// wrapping ErrBadState rather than panic. Bot plays a decent opponent from
// the state alone, so a bot peer stays deterministic too.
//
// The read-only accessors (Players, Disc, Phase, ArenaRadius, Score, …) are
// for drawing; package view draws a Game with Ebiten. This package never
// imports Ebiten.
package sim
