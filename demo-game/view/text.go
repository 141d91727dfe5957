package view

import (
	"strconv"

	"github.com/lynnet/lyn/demo-game/sim"
)

// PlayerName returns the label of player p: opts.Names[p] if set, else
// "P1" … "P8".
func PlayerName(p int, opts Options) string {
	if p >= 0 && p < len(opts.Names) && opts.Names[p] != "" {
		return opts.Names[p]
	}
	return "P" + strconv.Itoa(p+1)
}

// Banner returns the big text in the middle of the arena and a smaller line
// under it for the game's current phase, from the local player's point of
// view (opts.Local). Both are empty when there is nothing to announce.
func Banner(g *sim.Game, opts Options) (title, subtitle string) {
	switch g.Phase() {
	case sim.PhaseCountdown:
		left := g.PhaseFramesLeft()
		title = strconv.Itoa((left + sim.TicksPerSecond - 1) / sim.TicksPerSecond)
		subtitle = "Round " + strconv.Itoa(g.Round())
		if g.Round() == 1 {
			subtitle += " — first to " + strconv.Itoa(sim.WinScore) + " wins"
		}
	case sim.PhasePlaying:
		if g.PhaseFrame() < sim.TicksPerSecond/2 {
			title = "GO!"
		}
	case sim.PhaseRoundOver:
		switch w := g.RoundWinner(); {
		case w < 0:
			title = "Draw"
		case w == opts.Local:
			title = "You win the round!"
		default:
			title = PlayerName(w, opts) + " wins the round"
		}
	case sim.PhaseMatchOver:
		switch w := g.MatchWinner(); {
		case w < 0:
			title = "Match over"
		case w == opts.Local:
			title = "You win the match!"
		default:
			title = PlayerName(w, opts) + " wins the match!"
		}
		if left := g.PhaseFramesLeft(); left >= 0 {
			subtitle = "New match in " + strconv.Itoa((left+sim.TicksPerSecond-1)/sim.TicksPerSecond)
		} else {
			subtitle = "Everybody else left"
		}
	}
	return title, subtitle
}
