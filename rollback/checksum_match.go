package rollback

// checksumMatch pairs a peer's checksums with this peer's own, whichever is
// final first, and compares each frame once. Sessions keep one per peer, a
// spectator one for its host.
type checksumMatch struct {
	pending     [4]pendingSum // the peer's checksums of frames ours is not final for yet
	lastChecked Frame
}

type pendingSum struct {
	frame Frame
	sum   uint64
}

func newChecksumMatch() checksumMatch {
	c := checksumMatch{lastChecked: NoFrame}
	for i := range c.pending {
		c.pending[i].frame = NoFrame
	}
	return c
}

// offer takes the peer's checksum of frame f. It reports whether to compare
// now (ours is final); otherwise it keeps the checksum, dropping the oldest
// kept one if full.
func (c *checksumMatch) offer(f Frame, sum uint64, oursFinal bool) bool {
	if f <= c.lastChecked {
		return false
	}
	if oursFinal {
		return true
	}
	oldest := 0
	for i := range c.pending {
		if c.pending[i].frame == f {
			return false
		}
		if c.pending[i].frame < c.pending[oldest].frame {
			oldest = i
		}
	}
	c.pending[oldest] = pendingSum{frame: f, sum: sum}
	return false
}

// take returns, and forgets, the peer's checksum of f if one was kept.
func (c *checksumMatch) take(f Frame) (uint64, bool) {
	for i := range c.pending {
		if c.pending[i].frame == f {
			c.pending[i].frame = NoFrame
			return c.pending[i].sum, true
		}
	}
	return 0, false
}

// check marks f compared; false if it already was (peers repeat checksums).
func (c *checksumMatch) check(f Frame) bool {
	if f <= c.lastChecked {
		return false
	}
	c.lastChecked = f
	return true
}
