package sim

// DiscView is what a renderer needs to know about one player's disc. It is a
// copy: changing it changes nothing in the game.
type DiscView struct {
	// X, Y is the disc's centre and VX, VY its velocity per frame, in world
	// units with the arena's centre at the origin, x right and y down.
	X, Y, VX, VY Fixed
	// Alive says the disc is on the platform in this round.
	Alive bool
	// Falling counts down the frames of the fall of a disc that just left
	// the platform (FallFrames to 1); 0 when it is alive or gone.
	Falling int
	// Dashing counts down the frames of the current dash (DashFrames to 1).
	Dashing int
	// Stunned counts down the frames a disc hit by a dash slides without
	// control (StunFrames to 1).
	Stunned int
	// DashCooldown is how many frames until the disc may dash again.
	DashCooldown int
	// Facing is the octant a dash without a held direction goes: 0 right,
	// 1 down-right, 2 down, … 7 up-right.
	Facing int
	// Disconnected says the player has left the game; the disc is gone.
	Disconnected bool
}

// Visible says the disc should be drawn: alive or still falling.
func (d DiscView) Visible() bool { return d.Alive || d.Falling > 0 }

// Players returns the number of players.
func (g *Game) Players() int { return int(g.players) }

// Disc returns player p's disc (0 ≤ p < Players(); the zero DiscView
// otherwise).
func (g *Game) Disc(p int) DiscView {
	if p < 0 || p >= int(g.players) {
		return DiscView{}
	}
	d := &g.discs[p]
	return DiscView{
		X: Fixed(d.x), Y: Fixed(d.y), VX: Fixed(d.vx), VY: Fixed(d.vy),
		Alive:        d.alive(),
		Falling:      int(d.fall),
		Dashing:      int(d.dash),
		Stunned:      int(d.stun),
		DashCooldown: int(d.cooldown),
		Facing:       int(d.facing),
		Disconnected: d.disconnected(),
	}
}

// Phase returns the match's phase.
func (g *Game) Phase() Phase { return g.phase }

// PhaseFrame returns how many frames the current phase has lasted (it stops
// counting at 65535).
func (g *Game) PhaseFrame() int { return int(g.phaseFrame) }

// PhaseFramesLeft returns how many frames until the phase ends by itself:
// the countdown, the round-over and the match-over pauses have a fixed
// length. It returns -1 while playing and in a match-over that will not
// restart (fewer than two players left).
func (g *Game) PhaseFramesLeft() int {
	var length int
	switch g.phase {
	case PhaseCountdown:
		length = CountdownFrames
	case PhaseRoundOver:
		length = RoundOverFrames
	case PhaseMatchOver:
		if n, _ := g.connected(); g.players >= 2 && n < 2 {
			return -1
		}
		length = MatchOverFrames
	default:
		return -1
	}
	return max(0, length-int(g.phaseFrame))
}

// Round returns the round number within the match, from 1.
func (g *Game) Round() int { return int(g.round) }

// Match returns the match number, from 1.
func (g *Game) Match() int { return int(g.match) }

// ArenaRadius returns the platform's current radius.
func (g *Game) ArenaRadius() Fixed { return Fixed(g.radius) }

// Score returns player p's round wins in this match (0 for a p out of range).
func (g *Game) Score(p int) int {
	if p < 0 || p >= int(g.players) {
		return 0
	}
	return int(g.scores[p])
}

// RoundWinner returns the player who won the round that just ended, or -1
// while a round is on, after a draw, or in a solo game.
func (g *Game) RoundWinner() int { return int(g.roundWinner) }

// MatchWinner returns the player who won the match, or -1 before it is won.
func (g *Game) MatchWinner() int { return int(g.matchWinner) }

// Alive returns how many discs are on the platform.
func (g *Game) Alive() int {
	n := 0
	for p := range int(g.players) {
		if g.discs[p].alive() {
			n++
		}
	}
	return n
}
