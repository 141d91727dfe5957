package rollback

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// TestHostileMessages sends a running session every kind of bad message a
// broken or malicious peer could: each is dropped and counted, nothing
// panics, and the two honest peers finish with equal checksums.
func TestHostileMessages(t *testing.T) {
	net := newPipeNet(1)
	clock := &fakeClock{t: time.Unix(1000, 0)}
	players := []PeerID{1, 2}
	logs := []*checksumLog{newChecksumLog(), newChecksumLog()}
	var sessions []*Session[uint16]
	for i, id := range players {
		s, err := NewSession(Config[uint16]{Players: players, Self: id, Clock: clock, Recorder: logs[i]}, newSumGame(2), net.end(id))
		if err != nil {
			t.Fatal(err)
		}
		sessions = append(sessions, s)
	}
	// The attacker speaks with peer 2's identity to peer 1, next to the real
	// peer 2, and also as a stranger (peer 66).
	attacker := net.end(2)
	stranger := net.end(66)
	rng := rand.New(rand.NewPCG(1, 2))
	bad := []func(m *Message[uint16]){
		func(m *Message[uint16]) { m.Kind = KindInput; m.Frame = -5; m.Status = make([]PlayerStatus, 2) },
		func(m *Message[uint16]) {
			m.Kind = KindInput
			m.Frame = math.MaxInt32
			m.Status = make([]PlayerStatus, 2)
		},
		func(m *Message[uint16]) { m.Kind = KindInput; m.Status = make([]PlayerStatus, 7) },
		func(m *Message[uint16]) { m.Kind = KindInput; m.Status = nil },
		func(m *Message[uint16]) {
			m.Kind = KindInput
			m.Status = make([]PlayerStatus, 2)
			m.Inputs = make([]uint16, maxFramesPerMessage+1)
		},
		func(m *Message[uint16]) {
			m.Kind = KindInput
			m.Status = make([]PlayerStatus, 2)
			m.Inputs, m.PerFrame = make([]uint16, 4), 2 // peer 2 hosts one player
		},
		func(m *Message[uint16]) {
			m.Kind = KindInput
			m.Status = []PlayerStatus{{LastFrame: -9}, {LastFrame: 1 << 30}}
		},
		func(m *Message[uint16]) {
			m.Kind = KindInput
			m.Status = make([]PlayerStatus, 2)
			m.HasPing, m.Advantage = true, float32(math.NaN())
		},
		func(m *Message[uint16]) {
			m.Kind = KindInput
			m.Status = make([]PlayerStatus, 2)
			m.HasPing, m.PingTime = true, -time.Hour
		},
		func(m *Message[uint16]) { m.Kind = KindInput; m.Status = make([]PlayerStatus, 2); m.Ack = 1 << 29 },
		func(m *Message[uint16]) { m.Kind = KindInput; m.Status = make([]PlayerStatus, 2); m.HasChecksum = true },
		func(m *Message[uint16]) { m.Kind = KindSync; m.Fingerprint = 12345 },
		func(m *Message[uint16]) { m.Kind = MessageKind(200) },
		func(m *Message[uint16]) { m.Kind = KindSnapshot; m.Frame = 3; m.State = []byte("junk") },
	}
	for tick := range 900 {
		net.tick = tick
		clock.t = clock.t.Add(time.Second / 60)
		if tick > 60 && tick%3 == 0 {
			var m Message[uint16]
			bad[rng.IntN(len(bad))](&m)
			attacker.Send(1, &m)
			stranger.Send(1, &m)
		}
		for i, s := range sessions {
			s.AddLocalInput(i, uint16(rng.IntN(4)))
			if err := s.AdvanceFrame(); err != nil && !errors.Is(err, ErrNotSynchronized) && !errors.Is(err, ErrPredictionLimit) {
				t.Fatalf("peer %d tick %d: %v", i, tick, err)
			}
		}
	}
	ps, _ := sessions[0].PeerStats(2)
	st := sessions[0].Stats()
	t.Logf("peer stats %+v\nsession %+v", ps, st)
	if ps.MessagesInvalid < 200 || ps.MessagesUnknown == 0 || st.UnknownPeerMessages < 250 {
		t.Errorf("bad messages not all counted: invalid %d unknown kind %d stranger %d", ps.MessagesInvalid, ps.MessagesUnknown, st.UnknownPeerMessages)
	}
	if st.ConfirmedFrame < 800 || ps.Disconnected {
		t.Errorf("session did not go on: confirmed %d, disconnected %v", st.ConfirmedFrame, ps.Disconnected)
	}
	compared := 0
	for f, sum := range logs[0].sums {
		if other, ok := logs[1].sums[f]; ok {
			compared++
			if other != sum {
				t.Errorf("frame %d: %x vs %x", f, sum, other)
			}
		}
	}
	if compared < 20 {
		t.Errorf("only %d checksums compared", compared)
	}
	for _, e := range sessions[0].Events(nil) {
		if e.Kind == EventDesync {
			t.Error(e)
		}
	}
}
