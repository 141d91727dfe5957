package rollback

import (
	"errors"
	"fmt"
)

var (
	// ErrInvalidConfig wraps every problem NewSession finds in a Config.
	ErrInvalidConfig = errors.New("rollback: invalid config")
	// ErrNotSynchronized is returned by AdvanceFrame until every peer has
	// been heard from. Keep calling it every tick.
	ErrNotSynchronized = errors.New("rollback: not synchronized with every peer yet")
	// ErrPredictionLimit is returned by AdvanceFrame when advancing would
	// predict more frames than Config.MaxPrediction allows (in lockstep, when
	// an input is missing). Nothing was advanced; call again next tick.
	ErrPredictionLimit = errors.New("rollback: prediction limit reached, waiting for remote inputs")
	// ErrMissingLocalInput is returned by AdvanceFrame when a local player
	// has no input for the frame.
	ErrMissingLocalInput = errors.New("rollback: missing local input")
	// ErrNotLocalPlayer is returned when a method that needs a local player
	// is given another.
	ErrNotLocalPlayer = errors.New("rollback: not a local player")
	// ErrClosed is returned by every method after Close.
	ErrClosed = errors.New("rollback: session closed")
	// ErrBadInput is wrapped by codecs for bytes that are not an input.
	ErrBadInput = errors.New("rollback: bad input encoding")
	// ErrCatchingUp is returned by a spectator's AdvanceFrame until it has a
	// starting state and inputs to advance with.
	ErrCatchingUp = errors.New("rollback: spectator waiting for inputs")
)

// DesyncError says that two peers computed different states for the same
// confirmed frame: the game is not deterministic, or its state was changed
// outside Advance/Load.
type DesyncError struct {
	Frame  Frame
	Peer   PeerID // the peer whose checksum differs from ours
	Local  uint64 // our checksum of the state at Frame
	Remote uint64 // the peer's
}

func (e *DesyncError) Error() string {
	return fmt.Sprintf("rollback: desync at frame %d with peer %d: local checksum %016x, remote %016x",
		e.Frame, e.Peer, e.Local, e.Remote)
}

// NondeterminismError is what a sync-test session returns when advancing
// the same frame again, from the same state with the same inputs, gave a
// different state.
type NondeterminismError struct {
	Frame       Frame  // the first frame whose state differed
	First       uint64 // checksum of the state at Frame the first time
	Resimulated uint64 // checksum after loading and advancing again
}

func (e *NondeterminismError) Error() string {
	return fmt.Sprintf("rollback: sync test: state at frame %d is not deterministic: checksum %016x first, %016x when re-simulated",
		e.Frame, e.First, e.Resimulated)
}

// ConfigMismatchError says a peer runs a session of another shape (players,
// peers or input type differ).
type ConfigMismatchError struct {
	Peer          PeerID
	Local, Remote uint64 // fingerprints
}

func (e *ConfigMismatchError) Error() string {
	return fmt.Sprintf("rollback: peer %d runs a different session (fingerprint %016x, ours %016x)", e.Peer, e.Remote, e.Local)
}

// IsWait reports whether err only means "nothing advanced this tick, call
// again next tick": ErrNotSynchronized, ErrPredictionLimit, ErrCatchingUp.
func IsWait(err error) bool {
	return errors.Is(err, ErrNotSynchronized) || errors.Is(err, ErrPredictionLimit) || errors.Is(err, ErrCatchingUp)
}
