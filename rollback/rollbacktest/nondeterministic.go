package rollbacktest

import "github.com/lynnet/lyn/rollback"

// NondeterministicGame is a Game with a deliberate determinism bug, for
// testing sync-test sessions and desync detection.
//
// It behaves exactly like NewGame(players, seed) while the state's frame
// counter is below fromFrame. From then on each Advance also adds to player
// 0's score the number of times Advance has been called on a state at frame
// fromFrame or later — a counter kept in the struct, which Save does not
// write and Load does not restore.
//
// So the states at frames 0 to fromFrame are always correct, and the state
// at frame fromFrame+1 is the first that can differ: advancing frame
// fromFrame (from the state at fromFrame to the state at fromFrame+1) a
// second time, after loading the state at fromFrame, gives a different state
// than the first time (the score differs by at least one). A sync-test that
// re-simulates frame fromFrame must report frame fromFrame+1 as the first bad
// state. Every later frame re-simulated differs too.
//
// Two NondeterministicGames fed the same inputs without any Load stay
// identical to each other (but not to a Game from frame fromFrame+1 on):
// the bug shows only when a frame is simulated again. The methods promoted
// from Game (Save, Load, Clone, Equal, accessors) are Game's: Clone returns a
// correct *Game.
type NondeterministicGame struct {
	Game
	from  rollback.Frame
	calls uint32
}

// NewNondeterministicGame returns a Game that goes wrong from fromFrame on,
// as described on NondeterministicGame.
func NewNondeterministicGame(players int, seed uint64, fromFrame rollback.Frame) *NondeterministicGame {
	return &NondeterministicGame{Game: *NewGame(players, seed), from: fromFrame}
}

var _ rollback.Game[Input] = (*NondeterministicGame)(nil)

// FromFrame returns the frame from which the game is wrong.
func (g *NondeterministicGame) FromFrame() rollback.Frame { return g.from }

// Advance runs one frame like Game.Advance and, from frame FromFrame on,
// adds the hidden call count to player 0's score.
func (g *NondeterministicGame) Advance(inputs []rollback.PlayerInput[Input]) {
	bad := g.Frame() >= g.from
	g.Game.Advance(inputs)
	if bad {
		g.calls++
		g.s.players[0].score += g.calls
	}
}
