package netcode

import "sync"

// maxRetainedPacket is the largest buffer a queue slot keeps for reuse; a
// bigger message (a snapshot on the control channel) gets a buffer that is
// released once the game has moved past it.
const maxRetainedPacket = 64 << 10

// packetQueue is a bounded FIFO of received packets. pion's goroutines push
// (copying into a slot's reusable buffer, so steady state allocates
// nothing); the game goroutine pops. The slot returned by pop stays owned by
// the caller until the next pop, so its bytes stay valid until then.
type packetQueue struct {
	mu    sync.Mutex
	slots []packetSlot
	head  int  // index of the oldest slot
	n     int  // occupied slots, including a lent one
	lent  bool // slots[head] was returned by pop and is still being read
}

type packetSlot struct {
	from PeerID
	buf  []byte
}

// newPacketQueue returns a queue of capacity slots whose buffers start
// with slotBytes of capacity each, carved from one allocation, so packets
// up to slotBytes never allocate, not even the first time a slot is used.
func newPacketQueue(capacity, slotBytes int) *packetQueue {
	q := &packetQueue{slots: make([]packetSlot, capacity)}
	if slotBytes > 0 {
		backing := make([]byte, capacity*slotBytes)
		for i := range q.slots {
			q.slots[i].buf = backing[i*slotBytes : i*slotBytes : (i+1)*slotBytes]
		}
	}
	return q
}

// push copies data into the queue. It returns false, without blocking, when
// the queue is full.
func (q *packetQueue) push(from PeerID, data []byte) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.n == len(q.slots) {
		return false
	}
	i := q.head + q.n
	if i >= len(q.slots) {
		i -= len(q.slots)
	}
	s := &q.slots[i]
	s.from = from
	s.buf = append(s.buf[:0], data...)
	q.n++
	return true
}

// release ends the loan of the slot returned by the last pop.
func (q *packetQueue) release() {
	q.mu.Lock()
	q.releaseLocked()
	q.mu.Unlock()
}

func (q *packetQueue) releaseLocked() {
	if !q.lent {
		return
	}
	q.lent = false
	if cap(q.slots[q.head].buf) > maxRetainedPacket {
		q.slots[q.head].buf = nil
	}
	q.head++
	if q.head == len(q.slots) {
		q.head = 0
	}
	q.n--
}

// pop releases the previously returned slot and returns the oldest packet.
func (q *packetQueue) pop() (from PeerID, data []byte, ok bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.releaseLocked()
	if q.n == 0 {
		return 0, nil, false
	}
	q.lent = true
	s := &q.slots[q.head]
	return s.from, s.buf, true
}
