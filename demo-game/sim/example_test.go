package sim_test

import (
	"fmt"

	"github.com/lynnet/lyn/demo-game/sim"
	"github.com/lynnet/lyn/rollback"
)

// A match between three bots, advanced by hand as a session would: one input
// per player per frame. A real game hands the same Game to a
// rollback.Session instead and draws it with package view.
func Example() {
	g := sim.New(2026, 3)
	in := make([]rollback.PlayerInput[sim.Input], g.Players())
	for g.Phase() != sim.PhaseMatchOver {
		for p := range in {
			in[p] = rollback.PlayerInput[sim.Input]{Input: sim.Bot(g, p)}
		}
		g.Advance(in)
	}
	w := g.MatchWinner()
	fmt.Printf("player %d wins %d-%d-%d after %d rounds\n", w+1, g.Score(0), g.Score(1), g.Score(2), g.Round())
	fmt.Printf("state: %d bytes\n", len(g.Save(nil)))
	// Output:
	// player 2 wins 2-3-0 after 5 rounds
	// state: 101 bytes
}
