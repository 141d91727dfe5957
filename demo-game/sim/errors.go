package sim

import "errors"

var (
	// ErrBadState is wrapped by Game.Load for bytes that are not a saved
	// state of this game.
	ErrBadState = errors.New("sim: bad game state")
	// ErrPlayerCount is wrapped by Game.Load for a valid state of a game with
	// another number of players.
	ErrPlayerCount = errors.New("sim: state has another player count")
)
