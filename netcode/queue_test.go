package netcode

import (
	"bytes"
	"testing"
)

func TestPacketQueueOrderWrapAndLoan(t *testing.T) {
	q := newPacketQueue(3, 0)
	for round := range 5 {
		for i := range 4 {
			ok := q.push(PeerID(i), []byte{byte(round), byte(i)})
			if want := i < 3; ok != want {
				t.Fatalf("round %d push %d: ok %t, want %t", round, i, ok, want)
			}
		}
		from, data, ok := q.pop()
		if !ok || from != 0 || !bytes.Equal(data, []byte{byte(round), 0}) {
			t.Fatalf("round %d: pop %d %v %t", round, from, data, ok)
		}
		// The lent slot is not free yet: one push fails...
		if q.push(9, []byte("x")) {
			t.Fatal("push overwrote the slot still lent to the caller")
		}
		if !bytes.Equal(data, []byte{byte(round), 0}) {
			t.Fatal("lent data changed")
		}
		for i := 1; i < 3; i++ {
			from, data, ok = q.pop()
			if !ok || from != PeerID(i) || !bytes.Equal(data, []byte{byte(round), byte(i)}) {
				t.Fatalf("round %d: pop %d %v %t", round, from, data, ok)
			}
		}
		if _, _, ok := q.pop(); ok {
			t.Fatal("pop from empty queue")
		}
	}
}

func TestPacketQueueDropsHugeBuffers(t *testing.T) {
	q := newPacketQueue(1, 0)
	q.push(1, make([]byte, maxRetainedPacket+1))
	q.pop()
	q.release()
	if q.slots[0].buf != nil {
		t.Fatal("kept a buffer larger than maxRetainedPacket")
	}
}

func TestPacketQueueNoAllocs(t *testing.T) {
	q := newPacketQueue(64, 0)
	pkt := make([]byte, 32)
	allocs := testing.AllocsPerRun(1000, func() {
		for range 8 {
			q.push(1, pkt)
		}
		for {
			if _, _, ok := q.pop(); !ok {
				break
			}
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per push/pop round", allocs)
	}
}

// TestReceivePathNoAllocs: what lyn does per received packet (count, copy
// into the queue, signal Arrived, hand it to the game) allocates nothing.
func TestReceivePathNoAllocs(t *testing.T) {
	m := &Mesh{input: newPacketQueue(16, 8), control: newPacketQueue(16, 8), arrived: make(chan struct{}, 1)}
	l := &Link{mesh: m, peer: 2}
	pkt := make([]byte, 32)
	allocs := testing.AllocsPerRun(1000, func() {
		l.deliver(ChannelInput, pkt) // 32 bytes into 8-byte slots: grows each slot once, in the warm-up run
		l.deliver(ChannelControl, pkt)
		for {
			if _, _, _, ok := m.Receive(); !ok {
				break
			}
		}
		<-m.arrived
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per delivered pair of packets", allocs)
	}
}

// TestPacketQueueFirstUseNoAllocs: preallocated slots take packets up to
// their size without allocating, even on a slot's first use.
func TestPacketQueueFirstUseNoAllocs(t *testing.T) {
	q := newPacketQueue(4096, 128)
	pkt := make([]byte, 128)
	allocs := testing.AllocsPerRun(1000, func() {
		q.push(1, pkt)
		q.pop()
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per push/pop on fresh slots", allocs)
	}
	if cap(q.slots[3000].buf) != 128 {
		t.Fatalf("slot 3000 has capacity %d, want 128", cap(q.slots[3000].buf))
	}
}
