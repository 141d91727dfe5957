package sim

import (
	"testing"

	"github.com/lynnet/lyn/rollback"
)

// longRunChecksum is the state's checksum after TestHundredThousandFrames:
// the same on every run and every machine, or the game is not deterministic
// (or its rules changed: see goldenChecksums).
const longRunChecksum = 0x892ac2af415711d1

// TestHundredThousandFrames plays 4 players for 100 000 frames (about 28
// minutes of play, dozens of matches) of random inputs, one player leaving
// half way, and checks the physics' promises every frame: a disc on the
// platform is inside it (nobody leaves the arena without falling), scores
// only grow within a match and never pass WinScore, and the end state has
// the golden checksum.
func TestHundredThousandFrames(t *testing.T) {
	const frames, players = 100_000, 4
	g := New(100_000, players)
	in := make([]rollback.PlayerInput[Input], players)
	var score [players]int
	match := g.Match()
	rounds := 0
	for f := range frames {
		for p := range in {
			in[p] = rollback.PlayerInput[Input]{Input: randomInput(99, p, f)}
		}
		if f >= frames/2 {
			in[3] = rollback.PlayerInput[Input]{Status: rollback.Disconnected}
		}
		round := g.Round()
		g.Advance(in)
		if g.Round() != round {
			rounds++
		}
		r := int64(g.ArenaRadius())
		newMatch := g.Match() != match
		for p := range players {
			d := g.Disc(p)
			if x, y := int64(d.X), int64(d.Y); d.Alive && x*x+y*y > r*r {
				t.Fatalf("frame %d: player %d is alive at (%d, %d), outside the platform of radius %d", g.Frame(), p, d.X, d.Y, r)
			}
			s := g.Score(p)
			if (!newMatch && s < score[p]) || s > WinScore || s < 0 {
				t.Fatalf("frame %d: player %d's score went from %d to %d (match %d → %d)", g.Frame(), p, score[p], s, match, g.Match())
			}
			score[p] = s
		}
		match = g.Match()
	}
	if rounds < 50 {
		t.Fatalf("only %d rounds in %d frames: the random players hardly played", rounds, frames)
	}
	if got := g.Checksum(); got != longRunChecksum {
		t.Fatalf("after %d frames the checksum is %#016x, want %#016x (the game is nondeterministic, or its rules changed: then update longRunChecksum)", frames, got, uint64(longRunChecksum))
	}
}
