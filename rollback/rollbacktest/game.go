package rollbacktest

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"

	"github.com/lynnet/lyn/rollback"
)

// Input is the reference game's input: a bitmask of buttons. Bits other than
// the five buttons are ignored by the game, so every value is valid and
// rollback.UintCodec[Input]{} encodes it.
type Input uint16

// The buttons of Input.
const (
	Up Input = 1 << iota
	Down
	Left
	Right
	Action

	// AllButtons is every button pressed.
	AllButtons = Up | Down | Left | Right | Action
)

// Arena and physics constants of the reference game. Positions and
// velocities are fixed-point integers with 8 fractional bits (1 pixel = 256).
const (
	ArenaWidth     = 320 << 8
	ArenaHeight    = 240 << 8
	PlayerRadius   = 8 << 8
	MaxSpeed       = 3 << 8 // per axis, per frame
	Acceleration   = 96
	CooldownFrames = 20      // frames between two actions of a player
	BumpRange      = 32 << 8 // per axis
	BumpImpulse    = 2 << 8  // velocity given to a bumped player, per axis
	CoinRadius     = 6 << 8
	stateVersion   = 1
	headerSize     = 1 + 1 + 4 + 8 + 4 + 4 // version, players, frame, rng, coin x, y
	playerSize     = 4*4 + 1 + 1 + 4       // x, y, vx, vy, cooldown, flags, score
	flagDisconnect = 1
)

// ErrBadState is wrapped by Game.Load for bytes that are not a state of this
// game.
var ErrBadState = errors.New("rollbacktest: bad game state")

type player struct {
	x, y, vx, vy int32
	cooldown     uint8
	flags        uint8
	score        uint32
}

type state struct {
	frame        int32
	rng          uint64 // xorshift64* state, never 0
	coinX, coinY int32
	players      []player
}

// Game is lyn's reference game: players move in a walled arena with integer
// physics, pick up a coin that respawns at random, and press Action to bump
// nearby players away. Every frame draws from a seeded PRNG kept in the
// state, so any divergence of the generator shows in the state.
//
// It is deterministic: two Games made with the same arguments and advanced
// with the same inputs have identical states (and Save bytes). Only the
// Disconnected input status matters (a disconnected player stops and cannot
// act); Predicted and Confirmed are treated alike, as they must be.
//
// Save appends StateSize bytes and, with room in dst, allocates nothing;
// Advance and Load allocate nothing.
type Game struct {
	s   state
	tmp state // Load decodes here first, so a bad state changes nothing
}

var _ rollback.Game[Input] = (*Game)(nil)

// NewGame returns the state at frame 0 of a game with 1 to rollback.MaxPlayers
// players, laid out from seed. It panics if players is out of range.
func NewGame(players int, seed uint64) *Game {
	if players < 1 || players > rollback.MaxPlayers {
		panic(fmt.Sprintf("rollbacktest: NewGame with %d players, want 1 to %d", players, rollback.MaxPlayers))
	}
	g := &Game{
		s:   state{players: make([]player, players)},
		tmp: state{players: make([]player, players)},
	}
	g.s.rng = splitmix64(seed)
	if g.s.rng == 0 {
		g.s.rng = 1
	}
	for i := range g.s.players {
		p := &g.s.players[i]
		p.x, p.y = g.randomPoint(PlayerRadius)
	}
	g.s.coinX, g.s.coinY = g.randomPoint(CoinRadius)
	return g
}

func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// next is xorshift64*; it keeps the state non-zero.
func (g *Game) next() uint64 {
	x := g.s.rng
	x ^= x >> 12
	x ^= x << 25
	x ^= x >> 27
	g.s.rng = x
	return x * 0x2545f4914f6cdd1d
}

func (g *Game) randomPoint(margin int32) (x, y int32) {
	r := g.next()
	x = margin + int32(uint32(r)%uint32(ArenaWidth-2*margin+1))
	y = margin + int32(uint32(r>>32)%uint32(ArenaHeight-2*margin+1))
	return x, y
}

// StateSize returns the number of bytes Save appends for a game of the given
// number of players.
func StateSize(players int) int { return headerSize + players*playerSize }

// Players returns the number of players.
func (g *Game) Players() int { return len(g.s.players) }

// Frame returns the state's frame counter: how many times it was advanced
// since frame 0.
func (g *Game) Frame() rollback.Frame { return rollback.Frame(g.s.frame) }

// Position returns player p's position in fixed-point (256 = 1 pixel).
func (g *Game) Position(p rollback.Player) (x, y int32) {
	return g.s.players[p].x, g.s.players[p].y
}

// Velocity returns player p's velocity in fixed-point per frame.
func (g *Game) Velocity(p rollback.Player) (vx, vy int32) {
	return g.s.players[p].vx, g.s.players[p].vy
}

// Score returns how many coins and bumps player p has scored.
func (g *Game) Score(p rollback.Player) uint32 { return g.s.players[p].score }

// Disconnected reports whether player p's input was Disconnected in the last
// frame advanced.
func (g *Game) Disconnected(p rollback.Player) bool { return g.s.players[p].flags&flagDisconnect != 0 }

// Coin returns the coin's position.
func (g *Game) Coin() (x, y int32) { return g.s.coinX, g.s.coinY }

// Clone returns an independent copy of g.
func (g *Game) Clone() *Game {
	c := &Game{s: g.s, tmp: state{players: make([]player, len(g.s.players))}}
	c.s.players = append([]player(nil), g.s.players...)
	return c
}

// Equal reports whether g and o are in the same state.
func (g *Game) Equal(o *Game) bool {
	if g.s.frame != o.s.frame || g.s.rng != o.s.rng || g.s.coinX != o.s.coinX || g.s.coinY != o.s.coinY ||
		len(g.s.players) != len(o.s.players) {
		return false
	}
	for i := range g.s.players {
		if g.s.players[i] != o.s.players[i] {
			return false
		}
	}
	return true
}

// Save appends the state to dst, little-endian, StateSize(Players()) bytes:
//
//	version u8 (1), players u8, frame i32, rng u64, coin x i32, coin y i32,
//	then per player: x i32, y i32, vx i32, vy i32, cooldown u8, flags u8, score u32
func (g *Game) Save(dst []byte) []byte {
	le := binary.LittleEndian
	n, size := len(dst), StateSize(len(g.s.players))
	dst = slices.Grow(dst, size)[:n+size]
	b := dst[n:]
	b[0], b[1] = stateVersion, byte(len(g.s.players))
	le.PutUint32(b[2:], uint32(g.s.frame))
	le.PutUint64(b[6:], g.s.rng)
	le.PutUint32(b[14:], uint32(g.s.coinX))
	le.PutUint32(b[18:], uint32(g.s.coinY))
	b = b[headerSize:]
	for i := range g.s.players {
		p := &g.s.players[i]
		le.PutUint32(b[0:], uint32(p.x))
		le.PutUint32(b[4:], uint32(p.y))
		le.PutUint32(b[8:], uint32(p.vx))
		le.PutUint32(b[12:], uint32(p.vy))
		b[16], b[17] = p.cooldown, p.flags
		le.PutUint32(b[18:], p.score)
		b = b[playerSize:]
	}
	return dst
}

// Load restores a state made by Save of a game with the same number of
// players. It returns an error wrapping ErrBadState, and leaves the game
// unchanged, if the bytes are not such a state: wrong length, version or
// player count, a zero generator, a negative frame, a position outside the
// arena, a speed above MaxSpeed, a cooldown above CooldownFrames or unknown
// flags. Every state Load accepts, Save writes back byte for byte.
func (g *Game) Load(b []byte) error {
	n := len(g.s.players)
	if len(b) != StateSize(n) {
		return fmt.Errorf("%w: %d bytes, want %d", ErrBadState, len(b), StateSize(n))
	}
	if b[0] != stateVersion {
		return fmt.Errorf("%w: version %d, want %d", ErrBadState, b[0], stateVersion)
	}
	if int(b[1]) != n {
		return fmt.Errorf("%w: %d players, want %d", ErrBadState, b[1], n)
	}
	le := binary.LittleEndian
	t := &g.tmp
	if len(t.players) != n { // only after a Game was built by hand
		t.players = make([]player, n)
	}
	t.frame = int32(le.Uint32(b[2:]))
	t.rng = le.Uint64(b[6:])
	t.coinX = int32(le.Uint32(b[14:]))
	t.coinY = int32(le.Uint32(b[18:]))
	if t.frame < 0 {
		return fmt.Errorf("%w: frame %d", ErrBadState, t.frame)
	}
	if t.rng == 0 {
		return fmt.Errorf("%w: generator state is zero", ErrBadState)
	}
	if !inArena(t.coinX, t.coinY, CoinRadius) {
		return fmt.Errorf("%w: coin at (%d, %d) is outside the arena", ErrBadState, t.coinX, t.coinY)
	}
	b = b[headerSize:]
	for i := range t.players {
		p := &t.players[i]
		p.x = int32(le.Uint32(b[0:]))
		p.y = int32(le.Uint32(b[4:]))
		p.vx = int32(le.Uint32(b[8:]))
		p.vy = int32(le.Uint32(b[12:]))
		p.cooldown, p.flags = b[16], b[17]
		p.score = le.Uint32(b[18:])
		b = b[playerSize:]
		switch {
		case !inArena(p.x, p.y, PlayerRadius):
			return fmt.Errorf("%w: player %d at (%d, %d) is outside the arena", ErrBadState, i, p.x, p.y)
		case p.vx < -MaxSpeed || p.vx > MaxSpeed || p.vy < -MaxSpeed || p.vy > MaxSpeed:
			return fmt.Errorf("%w: player %d speed (%d, %d) above %d", ErrBadState, i, p.vx, p.vy, MaxSpeed)
		case p.cooldown > CooldownFrames:
			return fmt.Errorf("%w: player %d cooldown %d above %d", ErrBadState, i, p.cooldown, CooldownFrames)
		case p.flags&^flagDisconnect != 0:
			return fmt.Errorf("%w: player %d flags %#x", ErrBadState, i, p.flags)
		}
	}
	g.s, g.tmp = g.tmp, g.s
	return nil
}

func inArena(x, y, margin int32) bool {
	return x >= margin && x <= ArenaWidth-margin && y >= margin && y <= ArenaHeight-margin
}

// Advance runs one frame. It panics if len(inputs) != Players(): that is a
// bug in the caller, not bad data.
func (g *Game) Advance(inputs []rollback.PlayerInput[Input]) {
	ps := g.s.players
	if len(inputs) != len(ps) {
		panic(fmt.Sprintf("rollbacktest: Game.Advance with %d inputs for %d players", len(inputs), len(ps)))
	}
	// The wind: one draw every frame, so the state depends on the generator.
	gust := int32(g.next()%3) - 1

	// Steer.
	for i := range ps {
		p := &ps[i]
		if p.cooldown > 0 {
			p.cooldown--
		}
		if inputs[i].Status == rollback.Disconnected {
			p.flags |= flagDisconnect
			p.vx, p.vy = 0, 0
			continue
		}
		p.flags &^= flagDisconnect
		in := inputs[i].Input
		var ax, ay int32
		if in&Left != 0 {
			ax -= Acceleration
		}
		if in&Right != 0 {
			ax += Acceleration
		}
		if in&Up != 0 {
			ay -= Acceleration
		}
		if in&Down != 0 {
			ay += Acceleration
		}
		p.vx = (p.vx + ax + gust) * 7 / 8
		p.vy = (p.vy + ay) * 7 / 8
	}

	// Act: bump every other connected player in range away.
	for i := range ps {
		p := &ps[i]
		if p.flags&flagDisconnect != 0 || inputs[i].Input&Action == 0 || p.cooldown > 0 {
			continue
		}
		p.cooldown = CooldownFrames
		for j := range ps {
			q := &ps[j]
			if j == i || q.flags&flagDisconnect != 0 {
				continue
			}
			dx, dy := q.x-p.x, q.y-p.y
			if abs(dx) > BumpRange || abs(dy) > BumpRange {
				continue
			}
			q.vx += BumpImpulse * g.sign(dx)
			q.vy += BumpImpulse * g.sign(dy)
			p.score++
		}
	}

	// Move and bounce off the walls.
	for i := range ps {
		p := &ps[i]
		p.vx = clamp(p.vx, -MaxSpeed, MaxSpeed)
		p.vy = clamp(p.vy, -MaxSpeed, MaxSpeed)
		p.x += p.vx
		p.y += p.vy
		if p.x < PlayerRadius {
			p.x, p.vx = PlayerRadius, -p.vx/2
		} else if p.x > ArenaWidth-PlayerRadius {
			p.x, p.vx = ArenaWidth-PlayerRadius, -p.vx/2
		}
		if p.y < PlayerRadius {
			p.y, p.vy = PlayerRadius, -p.vy/2
		} else if p.y > ArenaHeight-PlayerRadius {
			p.y, p.vy = ArenaHeight-PlayerRadius, -p.vy/2
		}
	}

	// The coin: the first connected player touching it scores, and it
	// respawns at random.
	const reach = PlayerRadius + CoinRadius
	for i := range ps {
		p := &ps[i]
		if p.flags&flagDisconnect == 0 && abs(p.x-g.s.coinX) <= reach && abs(p.y-g.s.coinY) <= reach {
			p.score++
			g.s.coinX, g.s.coinY = g.randomPoint(CoinRadius)
			break
		}
	}
	g.s.frame++
}

// sign returns the sign of d, or a random one for 0.
func (g *Game) sign(d int32) int32 {
	switch {
	case d > 0:
		return 1
	case d < 0:
		return -1
	case g.next()&1 == 0:
		return 1
	}
	return -1
}

func abs(x int32) int32 {
	if x < 0 {
		return -x
	}
	return x
}

func clamp(x, lo, hi int32) int32 { return min(max(x, lo), hi) }
