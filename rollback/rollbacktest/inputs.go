package rollbacktest

import "math/rand/v2"

// InputGen generates plausible human input for the reference game: a
// combination of buttons is held for a while, then changed. Prediction by
// repeating the last input is right most of the time and wrong at every
// change, which is what makes a session predict and roll back.
//
// Each combination is held for MinHold to MaxHold frames (uniformly), then
// changes to a different one: a random direction (or none: the first input
// is never zero) and, one time in four, Action.
// The same seed gives the same inputs.
type InputGen struct {
	MinHold, MaxHold int // frames; defaults 1 and 30 when zero

	rng  *rand.Rand
	cur  Input
	left int
}

// NewInputGen returns a generator seeded with seed.
func NewInputGen(seed uint64) *InputGen {
	return &InputGen{rng: rand.New(rand.NewPCG(seed, 0x6c796e2d696e7075))}
}

var directions = [...]Input{0, Up, Down, Left, Right, Up | Left, Up | Right, Down | Left, Down | Right}

// Next returns the input for the next frame.
func (g *InputGen) Next() Input {
	if g.left <= 0 {
		lo, hi := g.MinHold, g.MaxHold
		if lo <= 0 {
			lo = 1
		}
		if hi <= 0 {
			hi = 30
		}
		hi = max(hi, lo)
		g.left = lo + g.rng.IntN(hi-lo+1)
		for first := g.cur; g.cur == first; { // always a change
			g.cur = directions[g.rng.IntN(len(directions))]
			if g.rng.IntN(4) == 0 {
				g.cur |= Action
			}
		}
	}
	g.left--
	return g.cur
}

// RandomInputs returns n inputs of one player from NewInputGen(seed).
func RandomInputs(seed uint64, n int) []Input {
	g := NewInputGen(seed)
	in := make([]Input, n)
	for i := range in {
		in[i] = g.Next()
	}
	return in
}
