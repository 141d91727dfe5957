package sim

import (
	"fmt"
	"strings"
	"testing"

	"github.com/lynnet/lyn/rollback"
)

// goldenChecksums are the checksums of the scripted game of
// TestGoldenChecksums every 1000 frames. They change whenever a rule, a
// constant, the bot or the state layout changes, so that such a change is a
// deliberate one: every peer of a game must run the same rules, and old
// replays of the demo stop replaying. If the change is intended, run
//
//	go test -run TestGoldenChecksums ./demo-game/sim
//
// and paste the "got" values it prints here (and bump stateVersion if the
// layout of the saved state changed).
var goldenChecksums = []uint64{
	0xab219ff48fd1e8d8, 0x07d8abed1ca1d58e, 0x8241e12e89cc4d9f, 0xad434fab98f59277, 0x41f11802da697b41, 0x04ebff4e91ce5aec,
}

// goldenScript plays 3 players for 6000 frames: two bots and a scripted
// human who leaves at frame 5000.
func goldenScript(yield func(g *Game) bool) {
	g := New(2026, 3)
	in := make([]rollback.PlayerInput[Input], 3)
	for f := range 6000 {
		in[0] = rollback.PlayerInput[Input]{Input: Bot(g, 0)}
		in[1] = rollback.PlayerInput[Input]{Input: Bot(g, 1)}
		in[2] = rollback.PlayerInput[Input]{Input: randomInput(2026, 2, f)}
		if f >= 5000 {
			in[2] = rollback.PlayerInput[Input]{Status: rollback.Disconnected}
		}
		g.Advance(in)
		if g.Frame()%1000 == 0 && !yield(g) {
			return
		}
	}
}

func TestGoldenChecksums(t *testing.T) {
	var got []uint64
	for g := range goldenScript {
		got = append(got, g.Checksum())
	}
	ok := len(got) == len(goldenChecksums)
	for i := range got {
		ok = ok && got[i] == goldenChecksums[i]
	}
	if !ok {
		t.Errorf("the scripted game's checksums changed: the rules changed.\n got: %s\nwant: %s\nIf that is intended, update goldenChecksums (see its comment).", hexList(got), hexList(goldenChecksums))
	}
}

func hexList(v []uint64) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = fmt.Sprintf("%#016x", x)
	}
	return strings.Join(s, ", ")
}

// TestGoldenScriptCoversTheRules checks that the golden script is worth its
// checksums: it must go through rounds, a match win and the disconnect.
func TestGoldenScriptCoversTheRules(t *testing.T) {
	var rounds, matches int
	var left bool
	for g := range goldenScript {
		rounds = max(rounds, g.Round())
		matches = max(matches, g.Match())
		left = g.Disc(2).Disconnected
	}
	if matches < 2 || !left {
		t.Fatalf("golden script: %d matches, last round %d, player 2 left %v; want a finished match and the disconnect", matches, rounds, left)
	}
}
