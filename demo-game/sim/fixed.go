package sim

// Fixed is a fixed-point number with 16 fractional bits: One is one world
// unit. The world has x to the right and y down, with the arena's centre at
// the origin, so a renderer maps it to the screen with a scale and an offset.
type Fixed int32

// One is 1.0 in Fixed.
const One Fixed = 1 << 16

// Float converts f to a float64, for drawing only: floats never enter the
// simulation.
func (f Fixed) Float() float64 { return float64(f) / float64(One) }

// Int returns f rounded towards zero to whole units.
func (f Fixed) Int() int { return int(f / One) }

// isqrt returns ⌊√n⌋ for n ≥ 0 (0 for negative n), using integers only so that
// every platform gets the same answer.
func isqrt(n int64) int64 {
	if n <= 0 {
		return 0
	}
	// Bit-by-bit square root: exact and branch-predictable, 32 iterations at
	// most for a 64-bit input.
	var root int64
	bit := int64(1) << 62
	for bit > n {
		bit >>= 2
	}
	for bit != 0 {
		if n >= root+bit {
			n -= root + bit
			root = root>>1 + bit
		} else {
			root >>= 1
		}
		bit >>= 2
	}
	return root
}

// cosTable is cos(2πi/64) in Fixed, computed once offline so that no
// floating-point library decides the spawn positions.
var cosTable = [64]int32{
	65536, 65220, 64277, 62714, 60547, 57798, 54491, 50660, 46341, 41576, 36410, 30893, 25080, 19024, 12785, 6424,
	0, -6424, -12785, -19024, -25080, -30893, -36410, -41576, -46341, -50660, -54491, -57798, -60547, -62714, -64277, -65220,
	-65536, -65220, -64277, -62714, -60547, -57798, -54491, -50660, -46341, -41576, -36410, -30893, -25080, -19024, -12785, -6424,
	0, 6424, 12785, 19024, 25080, 30893, 36410, 41576, 46341, 50660, 54491, 57798, 60547, 62714, 64277, 65220,
}

// unitAt returns the unit vector at angle 2πi/64 (y down, so i = 16 points
// down the screen).
func unitAt(i int) (x, y int64) {
	i &= 63
	return int64(cosTable[i]), int64(cosTable[(i+48)&63])
}

// splitmix64 advances a SplitMix64 generator and returns its next output.
func splitmix64(state *uint64) uint64 {
	*state += 0x9e3779b97f4a7c15
	z := *state
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}
