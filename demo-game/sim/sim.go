package sim

import (
	"github.com/lynnet/lyn/rollback"
)

// Input is one player's buttons for one frame, as bits. Bits other than the
// five buttons are ignored, so every value is valid on the wire.
type Input uint8

// The buttons of Input. Up and Down (or Left and Right) together cancel out.
const (
	Up Input = 1 << iota
	Down
	Left
	Right
	Dash

	// AllButtons is every button pressed.
	AllButtons = Up | Down | Left | Right | Dash
)

// MaxPlayers is the most players a Game has.
const MaxPlayers = 8

// Codec encodes an Input as one byte on the wire.
type Codec = rollback.UintCodec[Input]

// Timing, in frames: the simulation assumes TicksPerSecond frames a second.
const (
	TicksPerSecond     = 60
	CountdownFrames    = 3 * TicksPerSecond // before each round, discs cannot move
	RoundOverFrames    = 2 * TicksPerSecond // the round's result is shown
	MatchOverFrames    = 6 * TicksPerSecond // the match's winner is shown, then a new match starts
	ShrinkGraceFrames  = 2 * TicksPerSecond // the platform keeps its size this long into a round
	DashFrames         = 12                 // a dash lasts this long
	DashCooldownFrames = 54                 // from the start of one dash to the next
	FallFrames         = 30                 // a disc that left the platform falls this long (for drawing)
	StunFrames         = 10                 // a disc hit by a dash slides this long without control
)

// Rules and physics, in world units (Fixed) and frames.
const (
	// WinScore is the number of round wins that wins a match.
	WinScore = 3
	// DiscRadius is every disc's radius.
	DiscRadius = 16 * One
	// ArenaStartRadius is the platform's radius when a round starts; it then
	// shrinks by ShrinkPerFrame every frame, down to zero, so every round ends.
	ArenaStartRadius = 230 * One
	ShrinkPerFrame   = One / 6
	// SpawnRadius is the ring the discs start a round on.
	SpawnRadius = 140 * One
	// Acceleration is added to the velocity every frame a direction is held;
	// friction then removes 1/16 of it, so walking tops out near 15 × 0.22
	// = 3.3 units a frame.
	Acceleration = One * 22 / 100
	// DashSpeed is the speed a dash starts with; during a dash friction is
	// halved and the disc counts as three times as heavy in collisions.
	DashSpeed = 10 * One
	// MaxSpeed bounds every velocity component.
	MaxSpeed = 32 * One
	// MaxCoord bounds every coordinate (a falling disc drifts off the platform).
	MaxCoord = 1024 * One
)

// Phase is where a match is.
type Phase uint8

// The phases of a match, in order. A match goes Countdown → Playing →
// RoundOver → Countdown … until a player has WinScore round wins, then
// MatchOver, then a new match.
const (
	PhaseCountdown Phase = iota
	PhasePlaying
	PhaseRoundOver
	PhaseMatchOver
	numPhases
)

var phaseNames = [...]string{"countdown", "playing", "round over", "match over"}

func (p Phase) String() string {
	if p < numPhases {
		return phaseNames[p]
	}
	return "invalid phase"
}

const (
	flagAlive        = 1 << iota // on the platform in this round
	flagDisconnected             // left the game for good
	flagsKnown       = flagAlive | flagDisconnected
)

type disc struct {
	x, y, vx, vy Fixed
	cooldown     uint8 // frames until the next dash may start
	dash         uint8 // frames of the current dash left
	stun         uint8 // frames without control left, after a dash hit it
	fall         uint8 // frames of the fall animation left
	facing       uint8 // octant 0..7 (0 = right, 2 = down) a dash without direction goes
	prev         Input // last frame's buttons: a dash starts on the press, not the hold
	flags        uint8
}

func (d *disc) alive() bool        { return d.flags&flagAlive != 0 }
func (d *disc) disconnected() bool { return d.flags&flagDisconnected != 0 }

// Game is the demo's simulation: 1 to MaxPlayers discs on a round platform
// that shrinks during each round. Discs accelerate in the held direction,
// dash on a press of Dash (then wait DashCooldownFrames), and bounce off each
// other, a dashing disc hitting three times as hard. A disc whose centre leaves the
// platform falls and is out of the round; the last disc standing scores a
// point, and the first to WinScore points wins the match.
//
// Game implements rollback.Game[Input] and rollback.Checksummer. It is
// deterministic: integers only, a SplitMix64 generator in the state (it
// places the discs at the start of each round), no maps, no clock. Only the
// Disconnected input status matters: from the first frame a player's input
// is Disconnected, that player's disc is removed from the game for good (it
// vanishes, no longer collides, and is not placed in later rounds). If fewer
// than two players remain in a game of two or more, the match ends at once
// and the remaining player (if any) wins it; no new match starts.
//
// Advance, Save (given a dst with room) and Load allocate nothing.
type Game struct {
	frame        int32
	rng          uint64
	players      uint8
	phase        Phase
	phaseFrame   uint16 // frames spent in the current phase (saturates)
	round        uint16 // 1-based, within the match
	match        uint16 // 1-based
	roundPlayers uint8  // discs placed at the start of this round
	roundWinner  int8   // -1: none yet, or a draw
	matchWinner  int8   // -1: none yet
	radius       Fixed
	scores       [MaxPlayers]uint8
	discs        [MaxPlayers]disc
}

// New returns a game for players players (1 to MaxPlayers) whose rounds are
// laid out from seed. Every peer must use the same seed and player count. It
// panics if players is out of range: that is a programming error, not input.
func New(seed uint64, players int) *Game {
	if players < 1 || players > MaxPlayers {
		panic("sim: players out of range 1..MaxPlayers")
	}
	g := &Game{rng: seed, players: uint8(players)}
	g.newMatch()
	return g
}

// Frame returns the number of frames advanced since New.
func (g *Game) Frame() int { return int(g.frame) }

func (g *Game) newMatch() {
	if g.match < 0xffff {
		g.match++
	}
	g.round = 0
	g.scores = [MaxPlayers]uint8{}
	g.matchWinner = -1
	g.startRound()
}

// startRound places every connected disc on the spawn ring, evenly spaced
// from a random angle, facing the centre, and starts the countdown.
func (g *Game) startRound() {
	if g.round < 0xffff {
		g.round++
	}
	g.phase = PhaseCountdown
	g.phaseFrame = 0
	g.radius = ArenaStartRadius
	g.roundWinner = -1
	n := 0
	for p := range int(g.players) {
		if !g.discs[p].disconnected() {
			n++
		}
	}
	g.roundPlayers = uint8(n)
	rot := int(splitmix64(&g.rng) & 63)
	k := 0
	for p := range int(g.players) {
		d := &g.discs[p]
		prev := d.prev
		if d.disconnected() {
			*d = disc{flags: flagDisconnected, prev: prev}
			continue
		}
		angle := rot + k*64/n
		k++
		ux, uy := unitAt(angle)
		*d = disc{
			x:      Fixed(ux * int64(SpawnRadius) / int64(One)),
			y:      Fixed(uy * int64(SpawnRadius) / int64(One)),
			facing: uint8((angle+32+4)/8) & 7,
			prev:   prev,
			flags:  flagAlive,
		}
	}
}

func (g *Game) connected() (n, last int) {
	last = -1
	for p := range int(g.players) {
		if !g.discs[p].disconnected() {
			n++
			last = p
		}
	}
	return n, last
}

func (g *Game) endMatch(winner int) {
	g.phase = PhaseMatchOver
	g.phaseFrame = 0
	g.matchWinner = int8(winner)
}

// Advance runs one frame with one input per player. It panics if
// len(inputs) differs from the player count: that is a bug in the caller.
func (g *Game) Advance(inputs []rollback.PlayerInput[Input]) {
	if len(inputs) != int(g.players) {
		panic("sim: Advance got the wrong number of inputs")
	}
	g.frame++
	if g.phaseFrame < 0xffff {
		g.phaseFrame++
	}
	var buttons [MaxPlayers]Input
	for p, in := range inputs {
		d := &g.discs[p]
		if in.Status == rollback.Disconnected && !d.disconnected() {
			*d = disc{flags: flagDisconnected}
		}
		if !d.disconnected() {
			buttons[p] = in.Input & AllButtons
		}
	}
	if n, last := g.connected(); g.players >= 2 && n < 2 && g.phase != PhaseMatchOver {
		g.endMatch(last)
	}

	switch g.phase {
	case PhaseCountdown:
		g.move(nil)
		if g.phaseFrame >= CountdownFrames {
			g.phase = PhasePlaying
			g.phaseFrame = 0
		}
	case PhasePlaying:
		g.move(&buttons)
		g.collide()
		if g.phaseFrame > ShrinkGraceFrames {
			g.radius = max(0, g.radius-ShrinkPerFrame)
		}
		g.eliminate()
		g.checkRoundOver()
	case PhaseRoundOver:
		// Discs still slide after the round is decided; one that slides
		// off the platform falls (the round's result stands).
		g.move(nil)
		g.collide()
		g.eliminate()
		if g.phaseFrame >= RoundOverFrames {
			g.startRound()
		}
	case PhaseMatchOver:
		g.move(nil)
		g.collide()
		g.eliminate()
		if n, _ := g.connected(); g.phaseFrame >= MatchOverFrames && (g.players == 1 || n >= 2) {
			g.newMatch()
		}
	}
	for p := range int(g.players) {
		g.discs[p].prev = buttons[p]
	}
}

// octants maps the four direction bits to an octant (0 = right, 2 = down,
// 4 = left, 6 = up), or -1 for no direction.
var octants = func() (t [16]int8) {
	for b := range t {
		dx, dy := 0, 0
		if Input(b)&Right != 0 {
			dx++
		}
		if Input(b)&Left != 0 {
			dx--
		}
		if Input(b)&Down != 0 {
			dy++
		}
		if Input(b)&Up != 0 {
			dy--
		}
		t[b] = octantOf(dx, dy)
	}
	return t
}()

func octantOf(dx, dy int) int8 {
	switch {
	case dx > 0 && dy == 0:
		return 0
	case dx > 0 && dy > 0:
		return 1
	case dx == 0 && dy > 0:
		return 2
	case dx < 0 && dy > 0:
		return 3
	case dx < 0 && dy == 0:
		return 4
	case dx < 0 && dy < 0:
		return 5
	case dx == 0 && dy < 0:
		return 6
	case dx > 0 && dy < 0:
		return 7
	}
	return -1
}

func clamp(v, limit Fixed) Fixed { return max(-limit, min(limit, v)) }

// move applies buttons (nil: nobody steers) and friction, then moves every
// disc on the platform or falling off it.
func (g *Game) move(buttons *[MaxPlayers]Input) {
	for p := range int(g.players) {
		d := &g.discs[p]
		if d.cooldown > 0 {
			d.cooldown--
		}
		if d.fall > 0 {
			d.fall--
		}
		if !d.alive() && d.fall == 0 {
			continue
		}
		if d.alive() && buttons != nil && d.stun == 0 {
			b := buttons[p]
			oct := octants[b&(Up|Down|Left|Right)]
			if oct >= 0 {
				d.facing = uint8(oct)
			}
			ux, uy := unitAt(int(d.facing) * 8)
			switch {
			case b&Dash != 0 && d.prev&Dash == 0 && d.cooldown == 0:
				d.vx = Fixed(ux * int64(DashSpeed) / int64(One))
				d.vy = Fixed(uy * int64(DashSpeed) / int64(One))
				d.dash = DashFrames
				d.cooldown = DashCooldownFrames
			case oct >= 0 && d.dash == 0:
				d.vx += Fixed(ux * int64(Acceleration) / int64(One))
				d.vy += Fixed(uy * int64(Acceleration) / int64(One))
			}
		}
		switch {
		case d.dash > 0:
			d.dash--
			d.vx -= d.vx / 32
			d.vy -= d.vy / 32
		case d.stun > 0:
			d.stun--
			d.vx -= d.vx / 48
			d.vy -= d.vy / 48
		default:
			d.vx -= d.vx / 16
			d.vy -= d.vy / 16
		}
		// Friction alone leaves a crawl of a few 1/65536 units: stop it.
		if d.vx > -16 && d.vx < 16 {
			d.vx = 0
		}
		if d.vy > -16 && d.vy < 16 {
			d.vy = 0
		}
		d.vx = clamp(d.vx, MaxSpeed)
		d.vy = clamp(d.vy, MaxSpeed)
		d.x = clamp(d.x+d.vx, MaxCoord)
		d.y = clamp(d.y+d.vy, MaxCoord)
	}
}

// collide separates every overlapping pair of discs on the platform and
// bounces them apart (restitution 1/2 plus a small kick, so that even a slow
// bump pushes). A dashing disc weighs three times as much. Pairs go in index order.
func (g *Game) collide() {
	const minDist = 2 * int64(DiscRadius)
	const one = int64(One)
	for i := range int(g.players) {
		a := &g.discs[i]
		if !a.alive() {
			continue
		}
		for j := i + 1; j < int(g.players); j++ {
			b := &g.discs[j]
			if !b.alive() {
				continue
			}
			dx, dy := int64(b.x)-int64(a.x), int64(b.y)-int64(a.y)
			if dx >= minDist || dx <= -minDist || dy >= minDist || dy <= -minDist {
				continue
			}
			d2 := dx*dx + dy*dy
			if d2 >= minDist*minDist {
				continue
			}
			dist := isqrt(d2)
			nx, ny := one, int64(0) // discs exactly on top of each other: push along x
			if dist > 0 {
				nx, ny = dx*one/dist, dy*one/dist
			}
			overlap := minDist - dist
			sepA := overlap / 2
			sepB := overlap - sepA
			a.x = clamp(a.x-Fixed(nx*sepA/one), MaxCoord)
			a.y = clamp(a.y-Fixed(ny*sepA/one), MaxCoord)
			b.x = clamp(b.x+Fixed(nx*sepB/one), MaxCoord)
			b.y = clamp(b.y+Fixed(ny*sepB/one), MaxCoord)

			vrel := ((int64(b.vx)-int64(a.vx))*nx + (int64(b.vy)-int64(a.vy))*ny) / one
			if vrel >= 0 {
				continue // already separating
			}
			// Inverse masses: 3 for a disc, 1 for a dashing (heavier) one.
			wa, wb := int64(3), int64(3)
			if a.dash > 0 {
				wa = 1
			}
			if b.dash > 0 {
				wb = 1
			}
			impulse := -vrel*3/2 + one/2
			da := impulse * wa / (wa + wb)
			db := impulse * wb / (wa + wb)
			a.vx = clamp(a.vx-Fixed(nx*da/one), MaxSpeed)
			a.vy = clamp(a.vy-Fixed(ny*da/one), MaxSpeed)
			b.vx = clamp(b.vx+Fixed(nx*db/one), MaxSpeed)
			b.vy = clamp(b.vy+Fixed(ny*db/one), MaxSpeed)
			// A dash that hits a disc not dashing itself knocks it out of
			// control for a moment: that is what makes a hit land.
			if a.dash > 0 && b.dash == 0 {
				b.stun = StunFrames
			}
			if b.dash > 0 && a.dash == 0 {
				a.stun = StunFrames
			}
		}
	}
}

// eliminate drops every disc whose centre is off the platform.
func (g *Game) eliminate() {
	r := int64(g.radius)
	for p := range int(g.players) {
		d := &g.discs[p]
		if !d.alive() {
			continue
		}
		x, y := int64(d.x), int64(d.y)
		if x*x+y*y > r*r {
			d.flags &^= flagAlive
			d.fall = FallFrames
			d.dash, d.stun = 0, 0
		}
	}
}

func (g *Game) checkRoundOver() {
	alive, last := 0, -1
	for p := range int(g.players) {
		if g.discs[p].alive() {
			alive++
			last = p
		}
	}
	if g.roundPlayers >= 2 && alive > 1 || g.roundPlayers < 2 && alive > 0 {
		return
	}
	g.phase = PhaseRoundOver
	g.phaseFrame = 0
	if g.roundPlayers < 2 || alive == 0 {
		return // a solo round, or everybody fell on the same frame: a draw
	}
	g.roundWinner = int8(last)
	g.scores[last]++
	if g.scores[last] >= WinScore {
		g.endMatch(last)
	}
}
