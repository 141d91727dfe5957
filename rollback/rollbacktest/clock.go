package rollbacktest

import (
	"sync"
	"time"

	"github.com/lynnet/lyn/rollback"
)

// FakeClock is a rollback.Clock that moves only when told to. It is safe for
// concurrent use.
type FakeClock struct {
	mu  sync.Mutex
	now time.Time
}

var _ rollback.Clock = (*FakeClock)(nil)

// NewFakeClock returns a clock that reads start until advanced.
func NewFakeClock(start time.Time) *FakeClock {
	return &FakeClock{now: start}
}

// Now returns the clock's current time.
func (c *FakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d and returns the new time. It panics if
// d is negative: time never goes backwards.
func (c *FakeClock) Advance(d time.Duration) time.Time {
	if d < 0 {
		panic("rollbacktest: FakeClock.Advance with a negative duration")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	return c.now
}

// Set moves the clock to t, which must not be before the current time (it
// panics otherwise). Use it to jump to Network.NextDelivery.
func (c *FakeClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t.Before(c.now) {
		panic("rollbacktest: FakeClock.Set to an earlier time")
	}
	c.now = t
}
