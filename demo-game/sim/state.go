package sim

import (
	"encoding/binary"
	"fmt"

	"github.com/lynnet/lyn/rollback"
)

// The saved state: a header, then one record per player. Little-endian.
const (
	stateMagic   = 0xd5
	stateVersion = 1
	// magic, version, frame, rng, players, phase, phaseFrame, round, match,
	// roundPlayers, roundWinner, matchWinner, radius
	headerSize = 1 + 1 + 4 + 8 + 1 + 1 + 2 + 2 + 2 + 1 + 1 + 1 + 4
	// score, x, y, vx, vy, cooldown, dash, stun, fall, facing, prev, flags
	playerSize = 1 + 4*4 + 7
)

// StateSize returns the length of a saved state of a game of players players.
func StateSize(players int) int { return headerSize + players*playerSize }

// MaxStateSize is the longest saved state, that of a MaxPlayers game.
const MaxStateSize = headerSize + MaxPlayers*playerSize

// Save appends the state to dst (StateSize(players) bytes) and returns the
// extended slice; with room in dst it allocates nothing.
func (g *Game) Save(dst []byte) []byte {
	le := binary.LittleEndian
	dst = append(dst, stateMagic, stateVersion)
	dst = le.AppendUint32(dst, uint32(g.frame))
	dst = le.AppendUint64(dst, g.rng)
	dst = append(dst, g.players, byte(g.phase))
	dst = le.AppendUint16(dst, g.phaseFrame)
	dst = le.AppendUint16(dst, g.round)
	dst = le.AppendUint16(dst, g.match)
	dst = append(dst, g.roundPlayers, byte(g.roundWinner), byte(g.matchWinner))
	dst = le.AppendUint32(dst, uint32(g.radius))
	for p := range int(g.players) {
		d := &g.discs[p]
		dst = append(dst, g.scores[p])
		dst = le.AppendUint32(dst, uint32(d.x))
		dst = le.AppendUint32(dst, uint32(d.y))
		dst = le.AppendUint32(dst, uint32(d.vx))
		dst = le.AppendUint32(dst, uint32(d.vy))
		dst = append(dst, d.cooldown, d.dash, d.stun, d.fall, d.facing, byte(d.prev), d.flags)
	}
	return dst
}

// Load restores a state produced by Save. Bytes that are not such a state
// (truncated, from another version, with a value out of range) give an
// error wrapping ErrBadState and leave the game unchanged. A game made by
// New accepts only states with its own player count (ErrPlayerCount); the
// zero Game accepts any.
func (g *Game) Load(state []byte) error {
	if len(state) < headerSize {
		return fmt.Errorf("%w: %d bytes, want at least %d", ErrBadState, len(state), headerSize)
	}
	if state[0] != stateMagic {
		return fmt.Errorf("%w: magic %#x, want %#x", ErrBadState, state[0], stateMagic)
	}
	if state[1] != stateVersion {
		return fmt.Errorf("%w: version %d, want %d", ErrBadState, state[1], stateVersion)
	}
	le := binary.LittleEndian
	var n Game
	n.frame = int32(le.Uint32(state[2:]))
	n.rng = le.Uint64(state[6:])
	n.players = state[14]
	n.phase = Phase(state[15])
	n.phaseFrame = le.Uint16(state[16:])
	n.round = le.Uint16(state[18:])
	n.match = le.Uint16(state[20:])
	n.roundPlayers = state[22]
	n.roundWinner = int8(state[23])
	n.matchWinner = int8(state[24])
	n.radius = Fixed(int32(le.Uint32(state[25:])))
	players := int(n.players)
	switch {
	case players < 1 || players > MaxPlayers:
		return fmt.Errorf("%w: %d players", ErrBadState, players)
	case g.players != 0 && n.players != g.players:
		return fmt.Errorf("%w: state of %d players, game of %d", ErrPlayerCount, n.players, g.players)
	case len(state) != StateSize(players):
		return fmt.Errorf("%w: %d bytes, want %d for %d players", ErrBadState, len(state), StateSize(players), players)
	case n.frame < 0:
		return fmt.Errorf("%w: frame %d", ErrBadState, n.frame)
	case n.phase >= numPhases:
		return fmt.Errorf("%w: phase %d", ErrBadState, n.phase)
	case n.round < 1 || n.match < 1:
		return fmt.Errorf("%w: round %d of match %d", ErrBadState, n.round, n.match)
	case int(n.roundPlayers) > players:
		return fmt.Errorf("%w: %d players in the round of %d", ErrBadState, n.roundPlayers, players)
	case n.roundWinner < -1 || int(n.roundWinner) >= players:
		return fmt.Errorf("%w: round winner %d", ErrBadState, n.roundWinner)
	case n.matchWinner < -1 || int(n.matchWinner) >= players:
		return fmt.Errorf("%w: match winner %d", ErrBadState, n.matchWinner)
	case n.radius < 0 || n.radius > ArenaStartRadius:
		return fmt.Errorf("%w: arena radius %d", ErrBadState, n.radius)
	}
	for p := range players {
		r := state[headerSize+p*playerSize:]
		d := &n.discs[p]
		n.scores[p] = r[0]
		d.x = Fixed(int32(le.Uint32(r[1:])))
		d.y = Fixed(int32(le.Uint32(r[5:])))
		d.vx = Fixed(int32(le.Uint32(r[9:])))
		d.vy = Fixed(int32(le.Uint32(r[13:])))
		d.cooldown, d.dash, d.stun, d.fall, d.facing, d.prev, d.flags = r[17], r[18], r[19], r[20], r[21], Input(r[22]), r[23]
		switch {
		case n.scores[p] > WinScore:
			return fmt.Errorf("%w: player %d score %d", ErrBadState, p, n.scores[p])
		case d.x < -MaxCoord || d.x > MaxCoord || d.y < -MaxCoord || d.y > MaxCoord:
			return fmt.Errorf("%w: player %d position out of bounds", ErrBadState, p)
		case d.vx < -MaxSpeed || d.vx > MaxSpeed || d.vy < -MaxSpeed || d.vy > MaxSpeed:
			return fmt.Errorf("%w: player %d velocity out of bounds", ErrBadState, p)
		case d.cooldown > DashCooldownFrames || d.dash > DashFrames || d.stun > StunFrames || d.fall > FallFrames:
			return fmt.Errorf("%w: player %d timers out of range", ErrBadState, p)
		case d.facing > 7:
			return fmt.Errorf("%w: player %d facing %d", ErrBadState, p, d.facing)
		case d.prev&^AllButtons != 0:
			return fmt.Errorf("%w: player %d buttons %#x", ErrBadState, p, byte(d.prev))
		case d.flags&^flagsKnown != 0 || d.flags == flagsKnown:
			return fmt.Errorf("%w: player %d flags %#x", ErrBadState, p, d.flags)
		}
	}
	*g = n
	return nil
}

// Checksum returns the checksum of the whole state: rollback.StateChecksum of
// the bytes Save appends, so it is the engine's default checksum too.
func (g *Game) Checksum() uint64 {
	var buf [MaxStateSize]byte
	return rollback.StateChecksum(g.Save(buf[:0]))
}
