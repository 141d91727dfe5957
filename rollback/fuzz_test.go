package rollback

import (
	"encoding/binary"
	"math"
	"reflect"
	"testing"
	"time"
)

// fuzzMessage builds a message from arbitrary bytes, reaching every field.
func fuzzMessage(b []byte) Message[uint16] {
	r := fuzzReader{b: b}
	var m Message[uint16]
	m.Kind = MessageKind(r.u8() % 6)
	m.Fingerprint = r.u64()
	m.Frame = Frame(int32(r.u32()))
	m.Ack = Frame(int32(r.u32()))
	for range int(r.u8() % 40) {
		m.Inputs = append(m.Inputs, uint16(r.u32()))
	}
	m.PerFrame = int(r.u8()%3) - 1
	for range int(r.u8() % 5) {
		m.Status = append(m.Status, PlayerStatus{LastFrame: Frame(int32(r.u32())), Disconnected: r.u8()&1 == 1})
	}
	flags := r.u8()
	m.HasPing, m.HasPong, m.HasChecksum = flags&1 != 0, flags&2 != 0, flags&4 != 0
	m.PingTime, m.PingFrame, m.Advantage = time.Duration(int64(r.u64())), Frame(int32(r.u32())), math.Float32frombits(r.u32())
	m.PongTime, m.PongHold = time.Duration(int64(r.u64())), time.Duration(int64(r.u64()))
	m.ChecksumFrame, m.Checksum = Frame(int32(r.u32())), r.u64()
	m.State = r.rest()
	return m
}

type fuzzReader struct{ b []byte }

func (r *fuzzReader) take(n int) []byte {
	out := make([]byte, n)
	k := copy(out, r.b)
	r.b = r.b[k:]
	return out
}
func (r *fuzzReader) u8() uint8   { return r.take(1)[0] }
func (r *fuzzReader) u32() uint32 { return binary.LittleEndian.Uint32(r.take(4)) }
func (r *fuzzReader) u64() uint64 { return binary.LittleEndian.Uint64(r.take(8)) }
func (r *fuzzReader) rest() []byte {
	out := r.b
	r.b = nil
	return out
}

// engineState is what a rejected message must not change.
type engineState struct {
	lastReceived []Frame
	views        [][]PlayerStatus
	givenUp      []bool
	first        Frame
	frame        Frame
}

func snapshotEngine(s *Session[uint16]) engineState {
	st := engineState{first: s.firstIncorrect, frame: s.frame}
	for _, p := range s.players {
		st.lastReceived = append(st.lastReceived, p.lastReceived)
		st.givenUp = append(st.givenUp, p.givenUp)
	}
	for _, q := range s.peers {
		st.views = append(st.views, append([]PlayerStatus(nil), q.view...))
	}
	return st
}

// FuzzSessionMessage sends a running 2-player session arbitrary messages
// from its peer: it must never panic, and a message it rejects (counted as
// invalid) must change nothing in the engine.
func FuzzSessionMessage(f *testing.F) {
	f.Add([]byte{2, 0, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 4, 0, 0, 0, 3, 1, 0, 2, 0, 3, 0, 2, 1, 0, 0, 0, 0, 2, 0, 0, 0, 1})
	f.Add([]byte{1, 1, 2, 3, 4, 5, 6, 7, 8})
	f.Add([]byte{4})
	f.Add([]byte{3, 0, 0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 'x', 'y'})
	f.Fuzz(func(t *testing.T, data []byte) {
		net := newPipeNet(0)
		clock := &fakeClock{t: time.Unix(0, 0)}
		players := []PeerID{1, 2}
		a, _ := NewSession(Config[uint16]{Players: players, Self: 1, Clock: clock}, newSumGame(2), net.end(1))
		b, _ := NewSession(Config[uint16]{Players: players, Self: 2, Clock: clock}, newSumGame(2), net.end(2))
		play := func(ticks int) {
			for range ticks {
				net.tick++
				clock.t = clock.t.Add(time.Second / 60)
				a.AddLocalInput(0, uint16(net.tick/3))
				b.AddLocalInput(1, uint16(net.tick/4))
				a.AdvanceFrame()
				b.AdvanceFrame()
			}
		}
		play(30)
		m := fuzzMessage(data)
		before := snapshotEngine(a)
		invalid := a.peers[0].stats.MessagesInvalid
		a.handlePeer(0, &m, clock.t)
		if a.peers[0].stats.MessagesInvalid > invalid && !a.peers[0].stats.ConfigMismatch {
			if after := snapshotEngine(a); !reflect.DeepEqual(before, after) {
				t.Fatalf("rejected message changed the engine:\nbefore %+v\nafter  %+v\nmessage %+v", before, after, m)
			}
		}
		play(30) // and the session goes on without panicking
	})
}
