package sim

import (
	"testing"

	"github.com/lynnet/lyn/rollback"
)

// playingGame returns a game of players players on its first frame of play,
// with the discs at rest at the given positions (whole units) and the rest
// of them far apart on the spawn ring.
func playingGame(t *testing.T, players int, pos ...[2]int) *Game {
	t.Helper()
	g := New(1, players)
	none := make([]rollback.PlayerInput[Input], players)
	for g.Phase() == PhaseCountdown {
		g.Advance(none)
	}
	for p, xy := range pos {
		d := &g.discs[p]
		d.x, d.y = Fixed(xy[0])*One, Fixed(xy[1])*One
		d.vx, d.vy = 0, 0
	}
	return g
}

// step advances g one frame with the given buttons for the first players
// (the others press nothing).
func step(g *Game, buttons ...Input) {
	in := make([]rollback.PlayerInput[Input], g.Players())
	for p, b := range buttons {
		in[p].Input = b
	}
	g.Advance(in)
}

func dist(a, b DiscView) float64 {
	dx, dy := (a.X - b.X).Float(), (a.Y - b.Y).Float()
	return dx*dx + dy*dy
}

func TestDashGoesFurtherThanWalking(t *testing.T) {
	walk := playingGame(t, 2, [2]int{-150, 0}, [2]int{0, 200})
	dash := playingGame(t, 2, [2]int{-150, 0}, [2]int{0, 200})
	step(dash, Right|Dash)
	step(walk, Right)
	for range 29 {
		step(walk, Right)
		step(dash, Right)
	}
	w, d := walk.Disc(0).X+150*One, dash.Disc(0).X+150*One
	if d < 2*w {
		t.Fatalf("in 30 frames a dash went %.1f units, walking %.1f: want a dash at least twice as far", d.Float(), w.Float())
	}
	if y := dash.Disc(0).Y; y != 0 {
		t.Fatalf("a dash to the right drifted to y %v", y.Float())
	}
}

func TestDashWithoutDirectionGoesWhereTheDiscFaces(t *testing.T) {
	g := playingGame(t, 2, [2]int{0, 0}, [2]int{0, 200})
	step(g, Up)
	step(g, 0)
	y0 := g.Disc(0).Y
	step(g, Dash)
	if d := g.Disc(0); d.Dashing == 0 || d.VY >= 0 || d.VX != 0 || d.Y >= y0 {
		t.Fatalf("after Up then Dash: %+v, want a dash upwards", d)
	}
}

func TestDiagonalIsNotFaster(t *testing.T) {
	straight := playingGame(t, 2, [2]int{0, 0}, [2]int{-200, 0})
	diagonal := playingGame(t, 2, [2]int{0, 0}, [2]int{-200, 0})
	for range 40 {
		step(straight, Right)
		step(diagonal, Right|Down)
	}
	s, d := dist(straight.Disc(0), DiscView{}), dist(diagonal.Disc(0), DiscView{})
	if d > s*1.03 || d < s*0.97 {
		t.Fatalf("40 frames straight: %.1f units², diagonal: %.1f units²; want the same within 3%%", s, d)
	}
	cancel := playingGame(t, 2, [2]int{0, 0}, [2]int{-200, 0})
	for range 20 {
		step(cancel, Up|Down|Left|Right)
	}
	if d := cancel.Disc(0); d.X != 0 || d.Y != 0 {
		t.Fatalf("opposite directions moved the disc to %v,%v", d.X.Float(), d.Y.Float())
	}
}

func TestDashCooldown(t *testing.T) {
	g := playingGame(t, 2, [2]int{0, 0}, [2]int{0, 200})
	// Press and release Dash every other frame, turning to keep the disc
	// near the centre, and note the frames a dash starts.
	var starts []int
	for f := range 4 * DashCooldownFrames {
		b := Input(0)
		if f%2 == 0 {
			b = Dash
			if f/2%2 == 0 {
				b |= Left
			} else {
				b |= Right
			}
		}
		step(g, b)
		if g.Disc(0).Dashing == DashFrames-1 {
			starts = append(starts, f)
			if cd := g.Disc(0).DashCooldown; cd != DashCooldownFrames {
				t.Fatalf("cooldown %d right after a dash, want %d", cd, DashCooldownFrames)
			}
		}
	}
	if len(starts) < 3 {
		t.Fatalf("dashes started at frames %v: want one every cooldown", starts)
	}
	for i := 1; i < len(starts); i++ {
		// Presses come every other frame, so a dash starts on the cooldown's
		// last frame or the one after.
		if gap := starts[i] - starts[i-1]; gap < DashCooldownFrames || gap > DashCooldownFrames+1 {
			t.Fatalf("dashes started at frames %v: gap %d, want %d or %d", starts, gap, DashCooldownFrames, DashCooldownFrames+1)
		}
	}
}

func TestHeldDashDashesOnce(t *testing.T) {
	g := playingGame(t, 2, [2]int{-100, 0}, [2]int{0, 200})
	dashes := 0
	for range 5 * DashCooldownFrames {
		step(g, Dash)
		if g.Disc(0).Dashing == DashFrames-1 {
			dashes++
		}
	}
	if dashes != 1 {
		t.Fatalf("holding Dash dashed %d times, want once (a dash needs a press)", dashes)
	}
}

func TestDashBumpPushesHarderThanWalking(t *testing.T) {
	push := func(b Input) (moved float64, stunned bool) {
		g := playingGame(t, 2, [2]int{-60, 0}, [2]int{0, 0})
		step(g, Right|b)
		for range 25 {
			step(g, Right)
			stunned = stunned || g.Disc(1).Stunned > 0
		}
		return g.Disc(1).X.Float(), stunned
	}
	walked, walkStun := push(0)
	dashed, dashStun := push(Dash)
	if walked <= 0 {
		t.Fatalf("walking into a disc moved it %.1f units: a bump must push", walked)
	}
	if walkStun {
		t.Fatalf("a walking bump stunned the other disc")
	}
	if dashed < 2*walked || !dashStun {
		t.Fatalf("a dash pushed the disc %.1f units (stunned %v), walking %.1f: want a dash to push twice as far and stun", dashed, dashStun, walked)
	}
}

func TestStunnedDiscIgnoresInput(t *testing.T) {
	g := playingGame(t, 2, [2]int{0, 0}, [2]int{0, 200})
	g.discs[0].stun = StunFrames
	step(g, Left|Dash)
	if d := g.Disc(0); d.VX != 0 || d.Dashing != 0 {
		t.Fatalf("a stunned disc steered or dashed: %+v", d)
	}
}

func TestFallingOffEliminates(t *testing.T) {
	g := playingGame(t, 2, [2]int{200, 0}, [2]int{-100, 0})
	for g.Disc(0).Alive {
		if g.Frame() > 10000 {
			t.Fatal("walking off the platform never eliminated the disc")
		}
		step(g, Right)
	}
	d := g.Disc(0)
	if d.Falling != FallFrames || !d.Visible() || d.X <= g.ArenaRadius()-One {
		t.Fatalf("disc after falling off: %+v", d)
	}
	if g.Phase() != PhaseRoundOver || g.RoundWinner() != 1 || g.Score(1) != 1 || g.Score(0) != 0 {
		t.Fatalf("after player 0 fell: phase %v winner %d scores %d-%d", g.Phase(), g.RoundWinner(), g.Score(0), g.Score(1))
	}
	// It falls for FallFrames, then it is gone; nothing more is scored.
	for range FallFrames {
		step(g, 0)
	}
	if d := g.Disc(0); d.Visible() || g.Score(1) != 1 {
		t.Fatalf("after the fall: %+v, score %d", d, g.Score(1))
	}
}

func TestNoCollisionWithFallenDisc(t *testing.T) {
	g := playingGame(t, 2, [2]int{0, 0}, [2]int{10, 0})
	g.discs[1].flags &^= flagAlive
	g.discs[1].fall = FallFrames
	step(g, 0)
	if d := g.Disc(0); d.X != 0 || d.VX != 0 {
		t.Fatalf("a falling disc pushed a live one: %+v", d)
	}
}

func TestCountdownFreezesDiscs(t *testing.T) {
	g := New(2, 2)
	start := g.Disc(0)
	for g.Phase() == PhaseCountdown {
		step(g, Right|Dash, Left)
	}
	if d := g.Disc(0); d.X != start.X || d.Y != start.Y || d.Dashing != 0 {
		t.Fatalf("a disc moved during the countdown: %+v, started %+v", d, start)
	}
	// Dash held through the countdown does not fire when play starts.
	step(g, Right|Dash, Left)
	if d := g.Disc(0); d.Dashing != 0 {
		t.Fatalf("a Dash held since the countdown fired: %+v", d)
	}
}

func TestPlatformShrinks(t *testing.T) {
	g := New(3, 2)
	for g.Phase() == PhaseCountdown {
		step(g)
	}
	for g.PhaseFrame() < ShrinkGraceFrames {
		if g.ArenaRadius() != ArenaStartRadius {
			t.Fatalf("platform shrank during the grace period, frame %d", g.PhaseFrame())
		}
		step(g)
	}
	for range 100 {
		r := g.ArenaRadius()
		step(g)
		if g.ArenaRadius() != r-ShrinkPerFrame {
			t.Fatalf("radius went from %v to %v, want a shrink of %v", r.Float(), g.ArenaRadius().Float(), ShrinkPerFrame.Float())
		}
	}
}

func TestRoundResets(t *testing.T) {
	g := playingGame(t, 3, [2]int{220, 0}, [2]int{0, 0}, [2]int{-100, 0})
	g.discs[1].cooldown = 20
	// Player 0 walks off; the other two stand until the platform is gone
	// from under one of them.
	for g.Phase() == PhasePlaying {
		step(g, Right)
	}
	w := g.RoundWinner()
	if w != 1 && w != 2 || g.Score(w) != 1 {
		t.Fatalf("round 1 won by %d with score %d", w, g.Score(w))
	}
	step(g, Right) // discs keep sliding in the round-over pause, without control
	for g.Phase() == PhaseRoundOver {
		step(g, 0, Right)
	}
	if g.Phase() != PhaseCountdown || g.Round() != 2 || g.ArenaRadius() != ArenaStartRadius || g.RoundWinner() != -1 {
		t.Fatalf("after a round: phase %v round %d radius %v winner %d", g.Phase(), g.Round(), g.ArenaRadius().Float(), g.RoundWinner())
	}
	if g.Score(w) != 1 || g.Score(0)+g.Score(1)+g.Score(2) != 1 {
		t.Fatalf("scores after round 1: %d %d %d, want the winner's point kept", g.Score(0), g.Score(1), g.Score(2))
	}
	for p := range 3 {
		d := g.Disc(p)
		r := dist(d, DiscView{})
		ring := SpawnRadius.Float()
		if !d.Alive || d.VX != 0 || d.VY != 0 || d.DashCooldown != 0 || d.Dashing != 0 || d.Falling != 0 ||
			r < (ring-1)*(ring-1) || r > (ring+1)*(ring+1) {
			t.Fatalf("player %d at the start of round 2: %+v, want at rest on the spawn ring", p, d)
		}
	}
}

func TestDisconnectedPlayerLeavesForGood(t *testing.T) {
	g := playingGame(t, 3, [2]int{0, 0}, [2]int{100, 0}, [2]int{30, 0})
	gone := func(f int) []rollback.PlayerInput[Input] {
		return []rollback.PlayerInput[Input]{{Input: Right}, {}, {Input: AllButtons, Status: rollback.Disconnected}}
	}
	g.Advance(gone(0))
	d := g.Disc(2)
	if !d.Disconnected || d.Alive || d.Visible() {
		t.Fatalf("disconnected player's disc: %+v, want it gone", d)
	}
	// Player 0 walks through where it was.
	for f := range 20 {
		g.Advance(gone(f))
	}
	if g.Disc(0).X < 20*One {
		t.Fatalf("player 0 at %v: blocked by a disconnected disc", g.Disc(0).X.Float())
	}
	// Even if its inputs come back as confirmed, it stays out.
	step(g, 0, 0, Right)
	if d := g.Disc(2); !d.Disconnected || d.Alive {
		t.Fatalf("a disconnected player came back: %+v", d)
	}
	// Later rounds place only the two left.
	g.discs[1].x = 300 * One
	for g.Phase() != PhaseCountdown {
		step(g)
	}
	if g.Disc(2).Alive || !g.Disc(0).Alive || !g.Disc(1).Alive || g.roundPlayers != 2 {
		t.Fatalf("round 2 with player 2 gone: alive %v %v %v, %d placed", g.Disc(0).Alive, g.Disc(1).Alive, g.Disc(2).Alive, g.roundPlayers)
	}
	// Player 1 leaves too: player 0 wins the match, which stays over.
	g.Advance([]rollback.PlayerInput[Input]{{}, {Status: rollback.Disconnected}, {Status: rollback.Disconnected}})
	if g.Phase() != PhaseMatchOver || g.MatchWinner() != 0 || g.PhaseFramesLeft() != -1 {
		t.Fatalf("two of three left: phase %v winner %d frames left %d", g.Phase(), g.MatchWinner(), g.PhaseFramesLeft())
	}
	for range 2 * MatchOverFrames {
		step(g)
	}
	if g.Phase() != PhaseMatchOver || g.Match() != 1 {
		t.Fatalf("a match of one player restarted: phase %v match %d", g.Phase(), g.Match())
	}
}

func TestSoloRounds(t *testing.T) {
	g := New(6, 1)
	for g.Phase() == PhaseCountdown {
		step(g)
	}
	for g.Phase() == PhasePlaying {
		step(g, Up)
	}
	if g.Phase() != PhaseRoundOver || g.RoundWinner() != -1 || g.Score(0) != 0 {
		t.Fatalf("a solo disc fell: phase %v winner %d score %d", g.Phase(), g.RoundWinner(), g.Score(0))
	}
	for g.Phase() == PhaseRoundOver {
		step(g)
	}
	if g.Round() != 2 || !g.Disc(0).Alive {
		t.Fatalf("solo game after a fall: round %d alive %v", g.Round(), g.Disc(0).Alive)
	}
}
