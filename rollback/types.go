package rollback

import "time"

// Frame numbers a simulation step. The game's initial state is the state at
// frame 0; advancing with the inputs of frame f turns the state at f into the
// state at f+1.
type Frame int32

// NoFrame marks "no frame yet", for example the last input received from a
// player before any arrived.
const NoFrame Frame = -1

// Player is a player's index in Config.Players: 0, 1, … in every session type.
type Player = int

// PeerID names a participant (a machine) in a session. A peer hosts zero or
// more players; a spectator hosts none. IDs are chosen by whoever builds the
// session (netcode derives them from signaling) and must be the same on every
// peer.
type PeerID int

// InputStatus says where an input handed to Game.Advance came from.
type InputStatus uint8

const (
	// Confirmed is the player's real input for that frame.
	Confirmed InputStatus = iota
	// Predicted is a guess; if the real input differs, the engine rolls back
	// and advances the frame again with the real one.
	Predicted
	// Disconnected means the player has left: every peer agreed on the frame
	// from which on the player's input is the zero value with this status.
	Disconnected
)

func (s InputStatus) String() string {
	switch s {
	case Confirmed:
		return "confirmed"
	case Predicted:
		return "predicted"
	case Disconnected:
		return "disconnected"
	}
	return "InputStatus(?)"
}

// PlayerInput is one player's input for one frame, with where it came from.
type PlayerInput[I comparable] struct {
	Input  I
	Status InputStatus
}

// Clock tells the engine the time. The engine never reads a clock of its own:
// tests inject a fake one or run under testing/synctest.
type Clock interface {
	Now() time.Time
}

// SystemClock is the wall clock, the default when Config.Clock is nil.
type SystemClock struct{}

// Now returns time.Now().
func (SystemClock) Now() time.Time { return time.Now() }
