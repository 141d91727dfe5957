package rollback

import "math/bits"

// ceilPow2 returns the smallest power of two >= n (n >= 1), so that ring
// indexes are a mask instead of a division.
func ceilPow2(n int) int {
	if n <= 1 {
		return 1
	}
	return 1 << bits.Len(uint(n-1))
}

// stateRing keeps the most recent saved states, one slot per frame. Slots
// keep their buffers, so saving allocates only until every buffer has grown
// to the state's size.
type stateRing struct {
	buf   [][]byte
	frame []Frame // frame each slot holds, NoFrame if none
	mask  int
}

func newStateRing(n int) stateRing {
	n = ceilPow2(n)
	r := stateRing{buf: make([][]byte, n), frame: make([]Frame, n), mask: n - 1}
	for i := range r.frame {
		r.frame[i] = NoFrame
	}
	return r
}

// save asks game to serialize its state at frame f into f's slot and
// returns the bytes.
func saveState[I comparable](r *stateRing, game Game[I], f Frame) []byte {
	i := int(f) & r.mask
	r.buf[i] = game.Save(r.buf[i][:0])
	r.frame[i] = f
	return r.buf[i]
}

// get returns the state saved for frame f, if the ring still holds it.
func (r *stateRing) get(f Frame) ([]byte, bool) {
	if f < 0 {
		return nil, false
	}
	i := int(f) & r.mask
	if r.frame[i] != f {
		return nil, false
	}
	return r.buf[i], true
}

// checksumRing remembers the checksums of the frames peers compare (every
// ChecksumInterval-th frame), keyed by frame.
type checksumRing struct {
	frame []Frame
	sum   []uint64
	mask  int
}

func newChecksumRing(n int) checksumRing {
	n = ceilPow2(n)
	r := checksumRing{frame: make([]Frame, n), sum: make([]uint64, n), mask: n - 1}
	for i := range r.frame {
		r.frame[i] = NoFrame
	}
	return r
}

func (r *checksumRing) put(slot int, f Frame, sum uint64) {
	r.frame[slot&r.mask], r.sum[slot&r.mask] = f, sum
}

func (r *checksumRing) get(slot int, f Frame) (uint64, bool) {
	if r.frame[slot&r.mask] != f {
		return 0, false
	}
	return r.sum[slot&r.mask], true
}

// histogram counts small non-negative values (rollback depths) exactly and
// answers percentiles without sorting or allocating.
type histogram struct {
	counts []uint64
	total  uint64
	last   int
}

func (h *histogram) add(v int) {
	if v < 0 {
		v = 0
	}
	if v >= len(h.counts) {
		v = len(h.counts) - 1
	}
	h.counts[v]++
	h.total++
	h.last = v
}

// percentile returns the smallest value v such that at least p of all
// samples are <= v (0 with no samples).
func (h *histogram) percentile(p float64) int {
	if h.total == 0 {
		return 0
	}
	need := uint64(p*float64(h.total) + 0.999999)
	var seen uint64
	for v, c := range h.counts {
		seen += c
		if seen >= need {
			return v
		}
	}
	return len(h.counts) - 1
}
