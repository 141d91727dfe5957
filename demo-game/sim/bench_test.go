package sim

import (
	"testing"

	"github.com/lynnet/lyn/rollback"
)

// scriptedInputs returns frames frames of random inputs for players players.
func scriptedInputs(players, frames int) [][]rollback.PlayerInput[Input] {
	script := make([][]rollback.PlayerInput[Input], frames)
	for f := range script {
		script[f] = make([]rollback.PlayerInput[Input], players)
		for p := range players {
			script[f][p].Input = randomInput(77, p, f)
		}
	}
	return script
}

func benchmarkAdvance(b *testing.B, players int) {
	g := playedGame(1, players, CountdownFrames) // in play
	script := scriptedInputs(players, 1024)
	b.ReportAllocs()
	f := 0
	for b.Loop() {
		g.Advance(script[f&1023])
		f++
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(f)/1e3, "µs/frame")
}

func BenchmarkAdvance2(b *testing.B) { benchmarkAdvance(b, 2) }
func BenchmarkAdvance8(b *testing.B) { benchmarkAdvance(b, 8) }

// BenchmarkRollback8 is the worst rollback the engine does by default: load
// a state and re-simulate 8 frames of 8 players, saving each.
func BenchmarkRollback8(b *testing.B) {
	g := playedGame(1, 8, CountdownFrames+300)
	state := g.Save(nil)
	script := scriptedInputs(8, 8)
	buf := make([]byte, 0, MaxStateSize)
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		if err := g.Load(state); err != nil {
			b.Fatal(err)
		}
		for _, in := range script {
			g.Advance(in)
			buf = g.Save(buf[:0])
		}
		n++
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n)/1e3, "µs/rollback")
}

func BenchmarkBot8(b *testing.B) {
	g := playedGame(1, 8, CountdownFrames+300)
	b.ReportAllocs()
	var sink Input
	for b.Loop() {
		for p := range 8 {
			sink ^= Bot(g, p)
		}
	}
	_ = sink
}

func BenchmarkSave8(b *testing.B) {
	g := playedGame(1, 8, 1000)
	buf := make([]byte, 0, MaxStateSize)
	b.ReportAllocs()
	for b.Loop() {
		buf = g.Save(buf[:0])
	}
	b.ReportMetric(float64(len(buf)), "bytes/state")
}

func BenchmarkLoad8(b *testing.B) {
	g := playedGame(1, 8, 1000)
	state := g.Save(nil)
	b.ReportAllocs()
	for b.Loop() {
		if err := g.Load(state); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkChecksum8(b *testing.B) {
	g := playedGame(1, 8, 1000)
	b.ReportAllocs()
	var sink uint64
	for b.Loop() {
		sink ^= g.Checksum()
	}
	_ = sink
}

func TestNoAllocations(t *testing.T) {
	g := playedGame(1, 8, 1000)
	script := scriptedInputs(8, 64)
	state := g.Save(nil)
	buf := make([]byte, 0, MaxStateSize)
	f := 0
	for name, fn := range map[string]func(){
		"Advance":  func() { g.Advance(script[f&63]); f++ },
		"Save":     func() { buf = g.Save(buf[:0]) },
		"Load":     func() { _ = g.Load(state) },
		"Checksum": func() { _ = g.Checksum() },
		"Bot":      func() { _ = Bot(g, f&7) },
	} {
		if n := testing.AllocsPerRun(200, fn); n != 0 {
			t.Errorf("%s allocates %.1f times a call, want 0", name, n)
		}
	}
}
