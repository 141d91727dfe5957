package rollbacktest

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/lynnet/lyn/rollback"
)

// script produces the inputs of frames for a game of players: human-like
// inputs, Predicted on some frames, and player 1 disconnected from frame
// disconnectAt on (never if negative).
type script struct {
	gens         []*InputGen
	disconnectAt rollback.Frame
	buf          []rollback.PlayerInput[Input]
}

func newScript(players int, seed uint64, disconnectAt rollback.Frame) *script {
	s := &script{disconnectAt: disconnectAt, buf: make([]rollback.PlayerInput[Input], players)}
	for p := range players {
		s.gens = append(s.gens, NewInputGen(seed*100+uint64(p)))
	}
	return s
}

func (s *script) inputs(f rollback.Frame) []rollback.PlayerInput[Input] {
	for p, g := range s.gens {
		s.buf[p] = rollback.PlayerInput[Input]{Input: g.Next()}
		if f%7 == 3 {
			s.buf[p].Status = rollback.Predicted
		}
		if p == 1 && s.disconnectAt >= 0 && f >= s.disconnectAt {
			s.buf[p] = rollback.PlayerInput[Input]{Status: rollback.Disconnected}
		}
	}
	return s.buf
}

func TestGameDeterministic(t *testing.T) {
	const frames = 10000
	a, b := NewGame(4, 7), NewGame(4, 7)
	sa, sb := newScript(4, 1, 6000), newScript(4, 1, 6000)
	var ba, bb []byte
	scores := 0
	for f := range rollback.Frame(frames) {
		a.Advance(sa.inputs(f))
		b.Advance(sb.inputs(f))
		ba, bb = a.Save(ba[:0]), b.Save(bb[:0])
		if !bytes.Equal(ba, bb) {
			t.Fatalf("states differ after frame %d", f)
		}
	}
	if !a.Equal(b) || a.Frame() != frames {
		t.Fatalf("Equal = %v, Frame = %d", a.Equal(b), a.Frame())
	}
	for p := range 4 {
		scores += int(a.Score(p))
	}
	if scores == 0 {
		t.Error("nobody scored in 10000 frames: the game is not exercised")
	}
	if c := NewGame(4, 8); c.Equal(NewGame(4, 7)) {
		t.Error("different seeds give the same initial state")
	}
}

// TestGameGolden pins the game's behaviour: the checksum of the state after
// 2000 frames must be the same on every platform and in every version of
// this package. If you change the game on purpose, update the constant.
func TestGameGolden(t *testing.T) {
	g := NewGame(3, 12345)
	in := make([]rollback.PlayerInput[Input], 3)
	for f := range 2000 {
		// Inputs from a fixed formula, not InputGen, so that only the game
		// is pinned: each player holds a combination for 10 frames.
		for p := range in {
			in[p] = rollback.PlayerInput[Input]{Input: Input(splitmix64(uint64(f/10*8+p)) & 0x1f)}
		}
		if f >= 1500 {
			in[1] = rollback.PlayerInput[Input]{Status: rollback.Disconnected}
		}
		g.Advance(in)
	}
	const want uint64 = 0x1cbac0e5b6807682
	if got := rollback.StateChecksum(g.Save(nil)); got != want {
		t.Fatalf("checksum after 2000 frames = %#x, want %#x", got, want)
	}
}

func TestGameStatus(t *testing.T) {
	// Predicted and Confirmed inputs give the same state.
	a, b := NewGame(2, 1), NewGame(2, 1)
	gen := NewInputGen(5)
	for range 500 {
		in := gen.Next()
		a.Advance([]rollback.PlayerInput[Input]{{Input: in}, {Input: in ^ Action}})
		b.Advance([]rollback.PlayerInput[Input]{{Input: in, Status: rollback.Predicted}, {Input: in ^ Action, Status: rollback.Predicted}})
	}
	if !a.Equal(b) {
		t.Fatal("Predicted and Confirmed inputs gave different states")
	}

	// A disconnected player stops at once and stays put, whatever its input.
	for range 10 {
		a.Advance([]rollback.PlayerInput[Input]{{Input: Right}, {Input: Right}})
	}
	if vx, _ := a.Velocity(1); vx == 0 {
		t.Fatal("player 1 not moving before the test")
	}
	x0, y0 := a.Position(1)
	for range 300 {
		a.Advance([]rollback.PlayerInput[Input]{{Input: Left | Action}, {Input: Right | Action, Status: rollback.Disconnected}})
		if x, y := a.Position(1); x != x0 || y != y0 {
			t.Fatalf("disconnected player moved from (%d, %d) to (%d, %d)", x0, y0, x, y)
		}
		if !a.Disconnected(1) || a.Disconnected(0) {
			t.Fatal("Disconnected flags wrong")
		}
	}
	if vx, vy := a.Velocity(1); vx != 0 || vy != 0 {
		t.Fatalf("disconnected player's velocity (%d, %d)", vx, vy)
	}

	// Every player's input counts.
	c, d := NewGame(3, 1), NewGame(3, 1)
	c.Advance([]rollback.PlayerInput[Input]{{}, {}, {Input: Up}})
	d.Advance([]rollback.PlayerInput[Input]{{}, {}, {}})
	if c.Equal(d) {
		t.Fatal("player 2's input has no effect")
	}
}

func TestGameStaysInArena(t *testing.T) {
	g := NewGame(8, 3)
	gens := make([]*InputGen, 8)
	for p := range gens {
		gens[p] = NewInputGen(uint64(p))
		gens[p].MinHold, gens[p].MaxHold = 30, 200 // long holds reach the walls
	}
	in := make([]rollback.PlayerInput[Input], 8)
	var buf []byte
	h := NewGame(8, 0)
	hitWall := false
	for range 5000 {
		for p := range in {
			in[p].Input = gens[p].Next()
		}
		g.Advance(in)
		// Every reachable state is one Load accepts.
		buf = g.Save(buf[:0])
		if err := h.Load(buf); err != nil {
			t.Fatalf("frame %d: Load of a reachable state: %v", g.Frame(), err)
		}
		for p := range in {
			if x, _ := g.Position(p); x == PlayerRadius || x == ArenaWidth-PlayerRadius {
				hitWall = true
			}
		}
	}
	if !hitWall {
		t.Error("no player ever reached a wall")
	}
}

func TestGameSaveLoad(t *testing.T) {
	g := NewGame(3, 99)
	s := newScript(3, 2, -1)
	for f := range rollback.Frame(100) {
		g.Advance(s.inputs(f))
	}
	saved := g.Save([]byte("prefix"))
	if string(saved[:6]) != "prefix" || len(saved) != 6+StateSize(3) {
		t.Fatalf("Save did not append: %q…, %d bytes", saved[:6], len(saved))
	}
	saved = saved[6:]
	at100 := g.Clone()

	// Run on, remembering the inputs; roll back; run again: same states.
	var inputs [][]rollback.PlayerInput[Input]
	var states [][]byte
	for f := range rollback.Frame(50) {
		in := slices.Clone(s.inputs(100 + f))
		inputs = append(inputs, in)
		g.Advance(in)
		states = append(states, g.Save(nil))
	}
	if g.Equal(at100) {
		t.Fatal("state did not change in 50 frames")
	}
	if err := g.Load(saved); err != nil {
		t.Fatal(err)
	}
	if !g.Equal(at100) || g.Frame() != 100 {
		t.Fatal("Load did not restore the saved state")
	}
	if got := g.Save(nil); !bytes.Equal(got, saved) {
		t.Fatal("Save after Load differs from the loaded bytes")
	}
	for i, in := range inputs {
		g.Advance(in)
		if !bytes.Equal(g.Save(nil), states[i]) {
			t.Fatalf("re-simulated frame %d differs", 100+i)
		}
	}

	// Clone is independent.
	c := g.Clone()
	c.Advance(inputs[0])
	if c.Equal(g) {
		t.Fatal("Clone shares state with the original")
	}
}

func TestGameLoadRejects(t *testing.T) {
	g := NewGame(2, 5)
	s := newScript(2, 3, -1)
	for f := range rollback.Frame(40) {
		g.Advance(s.inputs(f))
	}
	good := g.Save(nil)
	before := g.Clone()

	le := binary.LittleEndian
	mutate := func(f func(b []byte)) []byte {
		b := slices.Clone(good)
		f(b)
		return b
	}
	p0 := headerSize // player 0's fields
	tooSlow := int32(-MaxSpeed - 1)
	cases := map[string][]byte{
		"empty":        {},
		"nil":          nil,
		"extra byte":   append(slices.Clone(good), 0),
		"version":      mutate(func(b []byte) { b[0] = 2 }),
		"players":      mutate(func(b []byte) { b[1] = 3 }),
		"frame":        mutate(func(b []byte) { le.PutUint32(b[2:], 1<<31) }),
		"rng zero":     mutate(func(b []byte) { le.PutUint64(b[6:], 0) }),
		"coin x":       mutate(func(b []byte) { le.PutUint32(b[14:], ArenaWidth) }),
		"coin y":       mutate(func(b []byte) { le.PutUint32(b[18:], 0) }),
		"player x":     mutate(func(b []byte) { le.PutUint32(b[p0:], ^uint32(0)) }),
		"player y":     mutate(func(b []byte) { le.PutUint32(b[p0+4:], ArenaHeight) }),
		"speed x":      mutate(func(b []byte) { le.PutUint32(b[p0+8:], MaxSpeed+1) }),
		"speed y":      mutate(func(b []byte) { le.PutUint32(b[p0+12:], uint32(tooSlow)) }),
		"cooldown":     mutate(func(b []byte) { b[p0+16] = CooldownFrames + 1 }),
		"flags":        mutate(func(b []byte) { b[p0+17] = 2 }),
		"player 1 bad": mutate(func(b []byte) { b[p0+playerSize+17] = 0x80 }),
	}
	for n := range len(good) {
		cases[fmt.Sprintf("truncated to %d bytes", n)] = good[:n]
	}
	for name, b := range cases {
		err := g.Load(b)
		if !errors.Is(err, ErrBadState) {
			t.Errorf("%s: Load returned %v, want ErrBadState", name, err)
		}
		if !g.Equal(before) {
			t.Fatalf("%s: a failed Load changed the game", name)
		}
	}
	if err := g.Load(good); err != nil {
		t.Fatalf("Load of the good state: %v", err)
	}
}

func TestGameAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under the race detector")
	}
	g := NewGame(4, 1)
	in := make([]rollback.PlayerInput[Input], 4)
	buf := make([]byte, 0, StateSize(4))
	saved := g.Save(nil)
	allocs := testing.AllocsPerRun(1000, func() {
		in[0].Input++
		g.Advance(in)
		buf = g.Save(buf[:0])
		if err := g.Load(saved); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per Advance+Save+Load, want 0", allocs)
	}
}

func TestNewGamePanics(t *testing.T) {
	for _, n := range []int{0, -1, rollback.MaxPlayers + 1} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("NewGame(%d, 0) did not panic", n)
				}
			}()
			NewGame(n, 0)
		}()
	}
	defer func() {
		if recover() == nil {
			t.Error("Advance with too few inputs did not panic")
		}
	}()
	NewGame(2, 0).Advance(make([]rollback.PlayerInput[Input], 1))
}

// syncTest is a minimal sync-test, for this package's own test: advance
// each frame, then load the state before it and advance it again; return
// the first frame whose state differed (NoFrame if none).
func syncTest(g rollback.Game[Input], inputs func(rollback.Frame) []rollback.PlayerInput[Input], frames int) rollback.Frame {
	var before, first, again []byte
	for f := range rollback.Frame(frames) {
		before = g.Save(before[:0])
		in := inputs(f)
		g.Advance(in)
		first = g.Save(first[:0])
		if err := g.Load(before); err != nil {
			panic(err)
		}
		g.Advance(in)
		again = g.Save(again[:0])
		if !bytes.Equal(first, again) {
			return f + 1
		}
	}
	return rollback.NoFrame
}

func TestNondeterministicGame(t *testing.T) {
	const from = 37
	s := newScript(2, 4, -1)
	cached := map[rollback.Frame][]rollback.PlayerInput[Input]{}
	inputs := func(f rollback.Frame) []rollback.PlayerInput[Input] {
		if in, ok := cached[f]; ok {
			return in
		}
		in := slices.Clone(s.inputs(f))
		cached[f] = in
		return in
	}

	if got := syncTest(NewGame(2, 11), inputs, 200); got != rollback.NoFrame {
		t.Fatalf("sync-test of Game found frame %d", got)
	}
	ng := NewNondeterministicGame(2, 11, from)
	if ng.FromFrame() != from {
		t.Fatalf("FromFrame = %d", ng.FromFrame())
	}
	if got := syncTest(ng, inputs, 200); got != from+1 {
		t.Fatalf("sync-test of NondeterministicGame(from %d) found frame %d, want %d", from, got, from+1)
	}

	// Without re-simulation it matches Game up to the state at from and
	// differs from from+1 on.
	g, ng := NewGame(2, 11), NewNondeterministicGame(2, 11, from)
	ng2 := NewNondeterministicGame(2, 11, from)
	for f := range rollback.Frame(100) {
		if want := f <= from; bytes.Equal(g.Save(nil), ng.Save(nil)) != want {
			t.Fatalf("state at frame %d: equal to Game = %v, want %v", f, !want, want)
		}
		g.Advance(inputs(f))
		ng.Advance(inputs(f))
		ng2.Advance(inputs(f))
		if !ng.Equal(&ng2.Game) {
			t.Fatalf("two NondeterministicGames without Load differ at frame %d", f+1)
		}
	}

	// Re-simulating from an earlier state: the state at from is still
	// right, the state at from+1 differs.
	ng = NewNondeterministicGame(2, 11, from)
	for f := range rollback.Frame(from - 5) {
		ng.Advance(inputs(f))
	}
	start := ng.Save(nil)
	var runs [2][][]byte
	for r := range runs {
		if err := ng.Load(start); err != nil {
			t.Fatal(err)
		}
		for f := rollback.Frame(from - 5); f < from+3; f++ {
			ng.Advance(inputs(f))
			runs[r] = append(runs[r], ng.Save(nil))
		}
	}
	for i := range runs[0] {
		frame := rollback.Frame(from - 5 + i + 1) // state after advancing
		if same := bytes.Equal(runs[0][i], runs[1][i]); same != (frame <= from) {
			t.Fatalf("second run, state at frame %d: same = %v", frame, same)
		}
	}
}

func TestInputGen(t *testing.T) {
	a, b := RandomInputs(1, 5000), RandomInputs(1, 5000)
	if !slices.Equal(a, b) {
		t.Fatal("same seed, different inputs")
	}
	if slices.Equal(a, RandomInputs(2, 5000)) {
		t.Fatal("different seeds, same inputs")
	}
	changes, run, seen := 0, 1, map[Input]bool{}
	for i := 1; i < len(a); i++ {
		seen[a[i]] = true
		if a[i]&^AllButtons != 0 || a[i]&(Up|Down) == Up|Down || a[i]&(Left|Right) == Left|Right {
			t.Fatalf("input %#x", a[i])
		}
		if a[i] != a[i-1] {
			changes++
			if run > 30 {
				t.Fatalf("input held %d frames, MaxHold is 30", run)
			}
			if run < 1 {
				t.Fatal("empty run")
			}
			run = 0
		}
		run++
	}
	// Mean hold 15.5 frames.
	if changes < 5000/20 || changes > 5000/12 {
		t.Errorf("%d changes in 5000 frames", changes)
	}
	if len(seen) < 15 {
		t.Errorf("only %d distinct inputs", len(seen))
	}

	g := NewInputGen(3)
	g.MinHold, g.MaxHold = 5, 5
	for range 20 {
		first := g.Next()
		for i := 1; i < 5; i++ {
			if g.Next() != first {
				t.Fatal("MinHold = MaxHold = 5 did not hold for 5 frames")
			}
		}
	}
}

func FuzzGameLoad(f *testing.F) {
	for _, players := range []int{1, 2, 4} {
		g := NewGame(players, uint64(players))
		s := newScript(players, 1, 50)
		for fr := range rollback.Frame(100) {
			if fr%25 == 0 {
				f.Add(g.Save(nil))
			}
			g.Advance(s.inputs(fr))
		}
	}
	f.Add([]byte{})
	f.Add([]byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, b []byte) {
		players := 2
		if len(b) >= 2 && b[1] >= 1 && int(b[1]) <= rollback.MaxPlayers {
			players = int(b[1])
		}
		g := NewGame(players, 1)
		before := g.Clone()
		if err := g.Load(b); err != nil {
			if !errors.Is(err, ErrBadState) {
				t.Fatalf("error %v does not wrap ErrBadState", err)
			}
			if !g.Equal(before) {
				t.Fatal("failed Load changed the game")
			}
			return
		}
		loaded := g.Frame()
		if got := g.Save(nil); !bytes.Equal(got, b) {
			t.Fatalf("Save after Load = %x, want %x", got, b)
		}
		in := make([]rollback.PlayerInput[Input], players)
		for i := range 10 {
			for p := range in {
				in[p] = rollback.PlayerInput[Input]{Input: Input(i * (p + 1)), Status: rollback.InputStatus(p % 3)}
			}
			g.Advance(in)
		}
		if loaded <= math.MaxInt32-10 { // past MaxInt32 the frame counter wraps
			if err := before.Load(g.Save(nil)); err != nil {
				t.Fatalf("state reached from a loaded state is rejected: %v", err)
			}
		}
	})
}

func BenchmarkGameAdvanceSave(b *testing.B) {
	for _, players := range []int{2, 4} {
		b.Run(fmt.Sprintf("players=%d", players), func(b *testing.B) {
			g := NewGame(players, 1)
			gens := make([]*InputGen, players)
			for p := range gens {
				gens[p] = NewInputGen(uint64(p))
			}
			const script = 1024
			inputs := make([][]rollback.PlayerInput[Input], script)
			for i := range inputs {
				inputs[i] = make([]rollback.PlayerInput[Input], players)
				for p := range players {
					inputs[i][p].Input = gens[p].Next()
				}
			}
			buf := make([]byte, 0, StateSize(players))
			i := 0
			b.ReportAllocs()
			for b.Loop() {
				g.Advance(inputs[i%script])
				buf = g.Save(buf[:0])
				i++
			}
			b.ReportMetric(float64(len(buf)), "bytes/state")
		})
	}
}
