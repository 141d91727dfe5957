package netcode

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// MemorySignaling is an in-process signaling hub for tests and benchmarks:
// Signaler(id) returns the endpoint of peer id. Signals are delivered in
// order, Delay after they were sent. A Recv whose ctx ends while it waits
// out a signal's delay drops that signal (a test hub, not a queue to rely
// on across Connect calls).
type MemorySignaling struct {
	// Delay is the one-way delay added to every signal. Set it before the
	// first call to Signaler.
	Delay time.Duration

	mu      sync.Mutex
	inboxes map[PeerID]chan envelope
	sent    int
}

type envelope struct {
	from PeerID
	s    Signal
	due  time.Time
}

// memoryInboxLen bounds each peer's undelivered signals; Send waits (until
// its ctx is done) when the inbox is full.
const memoryInboxLen = 256

// NewMemorySignaling returns an empty hub with no delay.
func NewMemorySignaling() *MemorySignaling {
	return &MemorySignaling{inboxes: make(map[PeerID]chan envelope)}
}

// Signaler returns the endpoint of peer id, creating its inbox if needed.
func (h *MemorySignaling) Signaler(id PeerID) Signaler {
	return memorySignaler{hub: h, self: id, inbox: h.inbox(id)}
}

// Sent returns how many signals have been sent through the hub.
func (h *MemorySignaling) Sent() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.sent
}

func (h *MemorySignaling) inbox(id PeerID) chan envelope {
	h.mu.Lock()
	defer h.mu.Unlock()
	c, ok := h.inboxes[id]
	if !ok {
		c = make(chan envelope, memoryInboxLen)
		h.inboxes[id] = c
	}
	return c
}

type memorySignaler struct {
	hub   *MemorySignaling
	self  PeerID
	inbox chan envelope
}

func (m memorySignaler) Send(ctx context.Context, to PeerID, s Signal) error {
	if to == m.self {
		return fmt.Errorf("%w: signal to self (%d)", ErrUnknownPeer, to)
	}
	c := m.hub.inbox(to)
	m.hub.mu.Lock()
	m.hub.sent++
	due := time.Now().Add(m.hub.Delay)
	m.hub.mu.Unlock()
	select {
	case c <- envelope{from: m.self, s: s, due: due}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (m memorySignaler) Recv(ctx context.Context) (PeerID, Signal, error) {
	select {
	case e := <-m.inbox:
		if wait := time.Until(e.due); wait > 0 {
			t := time.NewTimer(wait)
			defer t.Stop()
			select {
			case <-t.C:
			case <-ctx.Done():
				return 0, Signal{}, ctx.Err()
			}
		}
		return e.from, e.s, nil
	case <-ctx.Done():
		return 0, Signal{}, ctx.Err()
	}
}
