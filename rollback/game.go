package rollback

import "hash/crc64"

// Game is what a game implements to be driven by a session. All three methods
// are called on the goroutine that calls the session's methods, never
// concurrently.
//
// The game must be deterministic: the same state and the same inputs must
// give the same next state on every machine. Use a sync-test session to check.
type Game[I comparable] interface {
	// Save appends a serialized copy of the current state to dst and returns
	// the extended slice. The engine reuses dst between frames, so a game
	// that appends without allocating makes the whole frame allocation-free.
	Save(dst []byte) []byte
	// Load restores a state produced by Save (possibly on another peer, for a
	// spectator joining late). Bytes from another peer may be bad: return an
	// error rather than panic.
	Load(state []byte) error
	// Advance runs one frame with one input per player, indexed by Player.
	// The slice is owned by the engine and valid only during the call.
	// The next state may depend on an input's Status being Disconnected, but
	// never on Confirmed versus Predicted: a correctly predicted frame is not
	// simulated again, so that difference would stay in the state.
	Advance(inputs []PlayerInput[I])
}

// Checksummer may be implemented by a Game whose saved bytes are not a
// faithful fingerprint of its state (for example, when Save writes a cache
// that may legitimately differ between peers). Without it the checksum of a
// frame is StateChecksum of the bytes Save produced.
type Checksummer interface {
	Checksum() uint64
}

var crcTable = crc64.MakeTable(crc64.ECMA)

// StateChecksum is the checksum lyn uses for a saved state: CRC-64/ECMA of the
// bytes. It is the same on every platform.
func StateChecksum(state []byte) uint64 { return crc64.Checksum(state, crcTable) }

// ChecksumOf returns the checksum of game's current state the way sessions
// compute it: Checksummer if the game implements it, else StateChecksum of
// what Save appends to scratch[:0]. It returns the (possibly grown) scratch
// buffer for reuse.
func ChecksumOf[I comparable](game Game[I], scratch []byte) (uint64, []byte) {
	if c, ok := game.(Checksummer); ok {
		return c.Checksum(), scratch
	}
	scratch = game.Save(scratch[:0])
	return StateChecksum(scratch), scratch
}

// checksumSaved returns the checksum of a state that was just saved into
// state, so the bytes need not be produced twice.
func checksumSaved[I comparable](game Game[I], state []byte) uint64 {
	if c, ok := game.(Checksummer); ok {
		return c.Checksum()
	}
	return StateChecksum(state)
}
