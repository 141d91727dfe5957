package sim

import (
	"testing"

	"github.com/lynnet/lyn/rollback"
)

// botInputs fills in with every player's bot input for g's next frame.
func botInputs(g *Game, in []rollback.PlayerInput[Input]) {
	for p := range in {
		in[p] = rollback.PlayerInput[Input]{Input: Bot(g, p)}
	}
}

// playMatch runs bots until the first match ends or limit frames pass; it
// returns the frames it took.
func playMatch(t testing.TB, g *Game, limit int) int {
	t.Helper()
	in := make([]rollback.PlayerInput[Input], g.Players())
	for f := range limit {
		if g.Phase() == PhaseMatchOver {
			return f
		}
		botInputs(g, in)
		g.Advance(in)
	}
	t.Fatalf("no match winner after %d frames: phase %v round %d", limit, g.Phase(), g.Round())
	return 0
}

func TestBotMatchEnds(t *testing.T) {
	for _, players := range []int{2, 3, 8} {
		for seed := range uint64(5) {
			g := New(seed, players)
			frames := playMatch(t, g, 60*60*5)
			w := g.MatchWinner()
			if w < 0 || g.Score(w) != WinScore {
				t.Fatalf("players %d seed %d: winner %d with score %d", players, seed, w, g.Score(w))
			}
			t.Logf("players %d seed %d: %d frames (%.1f s), %d rounds, winner %d", players, seed, frames, float64(frames)/60, g.Round(), w)
		}
	}
}
