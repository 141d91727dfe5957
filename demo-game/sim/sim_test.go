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

// randomInput is a pure function of (seed, player, frame) that looks like a
// human: a direction held for a while, now and then a dash press.
func randomInput(seed uint64, p int, f int) Input {
	seg := uint64(f) / 9
	h := seed ^ uint64(p+1)*0x9e3779b97f4a7c15 ^ seg*0xbf58476d1ce4e5b9
	v := splitmix64(&h)
	in := Input(v) & (Up | Down | Left | Right)
	if v>>8&3 == 0 && f%9 < 3 {
		in |= Dash
	}
	if v>>16&7 == 0 { // a change mid-segment, so that predictions miss
		s := uint64(f) ^ v
		in ^= Input(splitmix64(&s)) & AllButtons
	}
	return in
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

// maxRoundFrames bounds a round: the countdown, the grace period, the
// platform shrinking to nothing, and the round-over pause.
const maxRoundFrames = CountdownFrames + ShrinkGraceFrames + int(ArenaStartRadius/ShrinkPerFrame) + 2 + RoundOverFrames

func TestBotMatchEnds(t *testing.T) {
	for _, players := range []int{2, 3, 8} {
		for seed := range uint64(5) {
			g := New(seed, players)
			// Bots draw rarely (they would have to fall on the same frame),
			// so a match lasts well under 20 rounds.
			frames := playMatch(t, g, 20*maxRoundFrames)
			w := g.MatchWinner()
			if w < 0 || g.Score(w) != WinScore {
				t.Fatalf("players %d seed %d: winner %d with score %d", players, seed, w, g.Score(w))
			}
			total := 0
			for p := range players {
				if p != w && g.Score(p) >= WinScore {
					t.Fatalf("players %d seed %d: player %d also has %d points", players, seed, p, g.Score(p))
				}
				total += g.Score(p)
			}
			if total > g.Round() {
				t.Fatalf("players %d seed %d: %d points in %d rounds", players, seed, total, g.Round())
			}
			t.Logf("players %d seed %d: %d frames (%.0f s), %d rounds, winner %d", players, seed, frames, float64(frames)/TicksPerSecond, g.Round(), w)
		}
	}
}

func TestRoundEndsWithinBound(t *testing.T) {
	// Nobody touches anything: the platform shrinks to nothing and every
	// disc falls at last.
	for _, players := range []int{1, 2, 8} {
		g := New(9, players)
		in := make([]rollback.PlayerInput[Input], players)
		f := 0
		for g.Round() == 1 {
			if f++; f > maxRoundFrames {
				t.Fatalf("%d players: round 1 still on after %d frames, phase %v radius %v", players, f, g.Phase(), g.ArenaRadius())
			}
			g.Advance(in)
		}
	}
}

func TestNewMatchAfterMatchOver(t *testing.T) {
	g := New(4, 2)
	playMatch(t, g, 20*maxRoundFrames)
	w := g.MatchWinner()
	in := make([]rollback.PlayerInput[Input], 2)
	for range MatchOverFrames - 1 {
		g.Advance(in)
	}
	if g.Phase() != PhaseMatchOver || g.MatchWinner() != w {
		t.Fatalf("match over lasted under %d frames: phase %v", MatchOverFrames, g.Phase())
	}
	g.Advance(in)
	if g.Phase() != PhaseCountdown || g.Match() != 2 || g.Round() != 1 || g.MatchWinner() != -1 || g.Score(w) != 0 {
		t.Fatalf("after match over: phase %v match %d round %d winner %d score %d; want a fresh match 2",
			g.Phase(), g.Match(), g.Round(), g.MatchWinner(), g.Score(w))
	}
}

func TestNewPanicsOnBadPlayerCount(t *testing.T) {
	for _, n := range []int{-1, 0, MaxPlayers + 1} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("New(1, %d) did not panic", n)
				}
			}()
			New(1, n)
		}()
	}
}

func TestCodecFitsInput(t *testing.T) {
	var c Codec
	if c.Size() != 1 {
		t.Fatalf("Codec size %d, want 1 byte", c.Size())
	}
	for in := range 256 {
		b := make([]byte, 0, 1)
		c.Put(b[:1], Input(in))
		got, err := c.Get(b[:1])
		if err != nil || got != Input(in) {
			t.Fatalf("Codec round trip of %#x: %#x, %v", in, got, err)
		}
	}
}
