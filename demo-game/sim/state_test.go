package sim

import (
	"bytes"
	"errors"
	"testing"

	"github.com/lynnet/lyn/rollback"
)

// playedGame returns a game of players players after frames frames of bots.
func playedGame(seed uint64, players, frames int) *Game {
	g := New(seed, players)
	in := make([]rollback.PlayerInput[Input], players)
	for range frames {
		botInputs(g, in)
		g.Advance(in)
	}
	return g
}

func TestSaveLoadRoundTrip(t *testing.T) {
	for _, players := range []int{1, 2, 8} {
		for _, frames := range []int{0, 250, 1500, 4000} {
			g := playedGame(3, players, frames)
			state := g.Save(nil)
			if len(state) != StateSize(players) {
				t.Fatalf("saved %d bytes, StateSize says %d", len(state), StateSize(players))
			}
			c := New(0, players)
			if err := c.Load(state); err != nil {
				t.Fatalf("%d players after %d frames: %v", players, frames, err)
			}
			if !bytes.Equal(c.Save(nil), state) || c.Checksum() != g.Checksum() || *c != *g {
				t.Fatalf("%d players after %d frames: the loaded game differs", players, frames)
			}
			// And they go on identically.
			in := make([]rollback.PlayerInput[Input], players)
			for f := range 600 {
				for p := range in {
					in[p] = rollback.PlayerInput[Input]{Input: randomInput(5, p, f)}
				}
				g.Advance(in)
				c.Advance(in)
			}
			if c.Checksum() != g.Checksum() {
				t.Fatalf("%d players after %d frames: the loaded game diverged", players, frames)
			}
		}
	}
}

func TestChecksumIsStateChecksum(t *testing.T) {
	g := playedGame(8, 4, 900)
	if got, want := g.Checksum(), rollback.StateChecksum(g.Save(nil)); got != want {
		t.Fatalf("Checksum %#x, StateChecksum of Save %#x", got, want)
	}
}

func TestLoadRejectsBadStates(t *testing.T) {
	g := playedGame(1, 3, 700)
	good := g.Save(nil)
	// Offsets inside the first player's record.
	rec := headerSize
	cases := map[string]func(b []byte) []byte{
		"empty":          func(b []byte) []byte { return nil },
		"truncated":      func(b []byte) []byte { return b[:len(b)-1] },
		"header only":    func(b []byte) []byte { return b[:headerSize] },
		"trailing byte":  func(b []byte) []byte { return append(b, 0) },
		"magic":          func(b []byte) []byte { b[0] ^= 1; return b },
		"version":        func(b []byte) []byte { b[1] = 9; return b },
		"zero players":   func(b []byte) []byte { b[14] = 0; return b },
		"9 players":      func(b []byte) []byte { b[14] = 9; return b },
		"negative frame": func(b []byte) []byte { b[5] = 0x80; return b },
		"phase":          func(b []byte) []byte { b[15] = byte(numPhases); return b },
		"round 0":        func(b []byte) []byte { b[18], b[19] = 0, 0; return b },
		"match 0":        func(b []byte) []byte { b[20], b[21] = 0, 0; return b },
		"round players":  func(b []byte) []byte { b[22] = 4; return b },
		"round winner":   func(b []byte) []byte { b[23] = 3; return b },
		"match winner":   func(b []byte) []byte { b[24] = 0xfe; return b },
		"radius":         func(b []byte) []byte { b[28] = 0x7f; return b },
		"score":          func(b []byte) []byte { b[rec] = WinScore + 1; return b },
		"x":              func(b []byte) []byte { b[rec+4] = 0x40; return b },
		"vy":             func(b []byte) []byte { b[rec+16] = 0x40; return b },
		"cooldown":       func(b []byte) []byte { b[rec+17] = DashCooldownFrames + 1; return b },
		"stun":           func(b []byte) []byte { b[rec+19] = StunFrames + 1; return b },
		"facing":         func(b []byte) []byte { b[rec+21] = 8; return b },
		"buttons":        func(b []byte) []byte { b[rec+22] = 0x20; return b },
		"flags":          func(b []byte) []byte { b[rec+23] = flagsKnown; return b },
	}
	for name, corrupt := range cases {
		bad := corrupt(bytes.Clone(good))
		c := New(5, 3)
		before := *c
		err := c.Load(bad)
		if !errors.Is(err, ErrBadState) {
			t.Errorf("%s: Load returned %v, want ErrBadState", name, err)
		}
		if *c != before {
			t.Errorf("%s: a failed Load changed the game", name)
		}
	}
}

func TestLoadPlayerCount(t *testing.T) {
	state := New(1, 3).Save(nil)
	if err := New(1, 4).Load(state); !errors.Is(err, ErrPlayerCount) {
		t.Fatalf("loading a 3-player state into a 4-player game: %v, want ErrPlayerCount", err)
	}
	var zero Game
	if err := zero.Load(state); err != nil || zero.Players() != 3 {
		t.Fatalf("the zero Game loading a 3-player state: %v, %d players", err, zero.Players())
	}
}

// FuzzLoad feeds Load arbitrary bytes: it must return an error or accept a
// state that saves back to the same bytes and then plays on without
// panicking.
func FuzzLoad(f *testing.F) {
	for _, players := range []int{1, 2, 8} {
		for _, frames := range []int{0, 400, 2000} {
			f.Add(playedGame(2, players, frames).Save(nil))
		}
	}
	f.Add([]byte{})
	f.Add([]byte{stateMagic, stateVersion})
	f.Fuzz(func(t *testing.T, data []byte) {
		var g Game
		if err := g.Load(data); err != nil {
			if !errors.Is(err, ErrBadState) {
				t.Fatalf("Load error %v does not wrap ErrBadState", err)
			}
			return
		}
		if !bytes.Equal(g.Save(nil), data) {
			t.Fatalf("a loaded state saves differently")
		}
		in := make([]rollback.PlayerInput[Input], g.Players())
		for range 120 {
			botInputs(&g, in)
			g.Advance(in)
		}
		if err := g.Load(g.Save(nil)); err != nil {
			t.Fatalf("a state reached from a loaded one does not load: %v", err)
		}
	})
}
