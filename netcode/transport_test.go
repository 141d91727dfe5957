package netcode

import (
	"testing"

	"github.com/lynnet/lyn/rollback"
)

// pipePackets is an in-memory Packets: what one side sends, the other
// receives, with one reused buffer per direction.
type pipePackets struct {
	buf  []byte
	full bool
	peer *pipePackets
}

func (p *pipePackets) Send(to PeerID, ch Channel, b []byte) error {
	p.peer.buf = append(p.peer.buf[:0], b...)
	p.peer.full = true
	return nil
}

func (p *pipePackets) Receive() (PeerID, Channel, []byte, bool) {
	if !p.full {
		return 0, 0, nil, false
	}
	p.full = false
	return 2, ChannelInput, p.buf, true
}

// TestTransportNoAllocs: encoding, sending, receiving and decoding an input
// message through Transport allocates nothing once warm (lyn's own code).
func TestTransportNoAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	a, b := &pipePackets{}, &pipePackets{}
	a.peer, b.peer = b, a
	ta, _ := NewTransport[uint16](a, rollback.UintCodec[uint16]{}, nil)
	tb, _ := NewTransport[uint16](b, rollback.UintCodec[uint16]{}, nil)
	m := &rollback.Message[uint16]{Kind: rollback.KindInput, Frame: 100, Ack: 98, PerFrame: 1,
		Inputs: []uint16{1, 1, 3, 3}, Status: []rollback.PlayerStatus{{LastFrame: 103}, {LastFrame: 98}},
		HasPing: true, PingTime: 12345, PingFrame: 101}
	roundTrip := func() {
		ta.Send(2, m)
		_, got, ok := tb.Receive()
		if !ok || got.Frame != 100 || len(got.Inputs) != 4 || got.PerFrame != 1 {
			t.Fatalf("got %+v %v", got, ok)
		}
	}
	roundTrip()
	if n := testing.AllocsPerRun(1000, roundTrip); n != 0 {
		t.Fatalf("%v allocations per message", n)
	}
}
