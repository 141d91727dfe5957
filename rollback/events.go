package rollback

import (
	"fmt"
	"time"
)

// EventKind says what an Event reports.
type EventKind uint8

const (
	// EventSynchronizing: waiting to hear from Peer.
	EventSynchronizing EventKind = iota + 1
	// EventSynchronized: Peer has been heard from and runs the same session.
	EventSynchronized
	// EventRunning: every peer is synchronized; AdvanceFrame now advances.
	// A spectator sends it once it has caught up with the live game.
	EventRunning
	// EventPeerInterrupted: Peer has been silent for DisconnectNotifyStart;
	// its players will be disconnected in DisconnectIn unless it comes back.
	EventPeerInterrupted
	// EventPeerResumed: Peer, interrupted before, is heard from again.
	EventPeerResumed
	// EventPeerDisconnected: every peer agreed that Player's input counts as
	// disconnected from Frame on (one event per player of Peer).
	EventPeerDisconnected
	// EventDesync: a confirmed frame's checksum differs from Peer's; Err is a
	// *DesyncError.
	EventDesync
	// EventTimeSync: advice on how to pace frames; FramesAhead > 0 means this
	// peer runs ahead of the others and should slow down (see TimeSync).
	EventTimeSync
	// EventConfigMismatch: Peer runs a differently configured session; Err is
	// a *ConfigMismatchError. Its messages are ignored.
	EventConfigMismatch
)

func (k EventKind) String() string {
	switch k {
	case EventSynchronizing:
		return "synchronizing"
	case EventSynchronized:
		return "synchronized"
	case EventRunning:
		return "running"
	case EventPeerInterrupted:
		return "peer interrupted"
	case EventPeerResumed:
		return "peer resumed"
	case EventPeerDisconnected:
		return "peer disconnected"
	case EventDesync:
		return "desync"
	case EventTimeSync:
		return "time sync"
	case EventConfigMismatch:
		return "config mismatch"
	}
	return "EventKind(?)"
}

// Event is something the game may want to show or act on. One flat struct:
// Kind says which fields mean something.
type Event struct {
	Kind         EventKind
	Peer         PeerID
	Player       Player        // EventPeerDisconnected
	Frame        Frame         // EventPeerDisconnected, EventDesync
	DisconnectIn time.Duration // EventPeerInterrupted
	FramesAhead  float32       // EventTimeSync
	Err          error         // EventDesync, EventConfigMismatch
}

func (e Event) String() string {
	switch e.Kind {
	case EventPeerInterrupted:
		return fmt.Sprintf("%v: peer %d, disconnect in %v", e.Kind, e.Peer, e.DisconnectIn)
	case EventPeerDisconnected:
		return fmt.Sprintf("%v: peer %d player %d from frame %d", e.Kind, e.Peer, e.Player, e.Frame)
	case EventDesync, EventConfigMismatch:
		return fmt.Sprintf("%v: %v", e.Kind, e.Err)
	case EventTimeSync:
		return fmt.Sprintf("%v: %.2f frames ahead", e.Kind, e.FramesAhead)
	case EventRunning:
		return e.Kind.String()
	}
	return fmt.Sprintf("%v: peer %d", e.Kind, e.Peer)
}

// eventQueue is a bounded FIFO; when the game never reads events, the oldest
// are dropped rather than growing without bound.
type eventQueue struct {
	buf     []Event
	dropped uint64
}

const maxQueuedEvents = 1024

func (q *eventQueue) push(e Event) {
	if len(q.buf) >= maxQueuedEvents {
		copy(q.buf, q.buf[1:])
		q.buf = q.buf[:len(q.buf)-1]
		q.dropped++
	}
	q.buf = append(q.buf, e)
}

// drain appends the queued events to dst and empties the queue.
func (q *eventQueue) drain(dst []Event) []Event {
	dst = append(dst, q.buf...)
	clear(q.buf)
	q.buf = q.buf[:0]
	return dst
}
