package view

import (
	"github.com/lynnet/lyn/demo-game/sim"
	"github.com/lynnet/lyn/rollback"
)

type rollbackInput = rollback.PlayerInput[sim.Input]

const disconnected = rollback.Disconnected

func advance(g *sim.Game, in []rollbackInput) { g.Advance(in) }

// botInputs fills in with every player's bot input.
func botInputs(g *sim.Game, in []rollbackInput) {
	for p := range in {
		in[p] = rollbackInput{Input: sim.Bot(g, p)}
	}
}
