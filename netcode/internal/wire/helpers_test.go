package wire

import (
	"encoding/binary"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/lynnet/lyn/rollback"
)

func newCodec(t testing.TB) *Codec[uint16] {
	t.Helper()
	c, err := NewCodec[uint16](rollback.UintCodec[uint16]{})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// sameMessage compares the fields of a and b that their Kind uses (floats
// by bits, so NaN equals itself).
func sameMessage(a, b *rollback.Message[uint16]) bool {
	if a.Kind != b.Kind {
		return false
	}
	switch a.Kind {
	case rollback.KindSync:
		return a.Fingerprint == b.Fingerprint
	case rollback.KindGoodbye:
		return true
	case rollback.KindSnapshot:
		return a.Frame == b.Frame && string(a.State) == string(b.State)
	}
	if a.Frame != b.Frame || a.Ack != b.Ack || !slices.Equal(a.Inputs, b.Inputs) || !slices.Equal(a.Status, b.Status) ||
		a.HasPing != b.HasPing || a.HasPong != b.HasPong || a.HasChecksum != b.HasChecksum {
		return false
	}
	if a.HasPing && (a.PingTime != b.PingTime || a.PingFrame != b.PingFrame ||
		math.Float32bits(a.Advantage) != math.Float32bits(b.Advantage)) {
		return false
	}
	if a.HasPong && (a.PongTime != b.PongTime || a.PongHold != b.PongHold) {
		return false
	}
	return !a.HasChecksum || (a.ChecksumFrame == b.ChecksumFrame && a.Checksum == b.Checksum)
}

// identical compares every field, slices included (nil equals empty).
func identical(a, b *rollback.Message[uint16]) bool {
	return a.Kind == b.Kind && a.Fingerprint == b.Fingerprint && a.Frame == b.Frame && a.Ack == b.Ack &&
		a.HasPing == b.HasPing && a.PingTime == b.PingTime && a.PingFrame == b.PingFrame &&
		math.Float32bits(a.Advantage) == math.Float32bits(b.Advantage) &&
		a.HasPong == b.HasPong && a.PongTime == b.PongTime && a.PongHold == b.PongHold &&
		a.HasChecksum == b.HasChecksum && a.ChecksumFrame == b.ChecksumFrame && a.Checksum == b.Checksum &&
		slices.Equal(a.Inputs, b.Inputs) && slices.Equal(a.Status, b.Status) && string(a.State) == string(b.State)
}

// src hands out fuzz bytes, zeros when they run out.
type src struct{ b []byte }

func (s *src) u8() byte {
	if len(s.b) == 0 {
		return 0
	}
	v := s.b[0]
	s.b = s.b[1:]
	return v
}

func (s *src) u64() uint64 {
	var buf [8]byte
	n := copy(buf[:], s.b)
	s.b = s.b[n:]
	return binary.LittleEndian.Uint64(buf[:])
}

func (s *src) frame() rollback.Frame {
	switch s.u8() % 4 {
	case 0:
		return rollback.Frame(int32(s.u64()))
	case 1:
		return rollback.NoFrame
	}
	return rollback.Frame(int(s.u8()) * 100)
}

func (s *src) micros() time.Duration {
	v := int64(s.u64())
	if s.u8()%2 == 0 {
		v %= 1 << 32
	}
	return time.Duration(v/1000) * time.Microsecond
}

// genMessage makes a message from fuzz bytes, with times in whole
// microseconds (the wire's unit). It returns inputs per frame.
func genMessage(s *src) (rollback.Message[uint16], int) {
	var m rollback.Message[uint16]
	m.Kind = rollback.MessageKind(s.u8()%4 + 1)
	switch m.Kind {
	case rollback.KindSync:
		m.Fingerprint = s.u64()
		return m, 0
	case rollback.KindGoodbye:
		return m, 0
	case rollback.KindSnapshot:
		m.Frame = s.frame()
		m.State = make([]byte, int(s.u8())*int(s.u8()%8+1))
		for i := range m.State {
			m.State[i] = s.u8()
		}
		return m, 0
	}
	n := int(s.u8() % 9)
	frames := 0
	if n > 0 {
		frames = int(s.u8()) % 150
	}
	mode := s.u8() % 3
	m.Frame, m.Ack = s.frame(), s.frame()
	ns := int(s.u8() % 10)
	if ns == 9 {
		ns = MaxPlayers
	}
	for range ns {
		m.Status = append(m.Status, rollback.PlayerStatus{LastFrame: s.frame(), Disconnected: s.u8()%2 == 0})
	}
	flags := s.u8()
	if flags&1 != 0 {
		m.HasPing, m.PingTime, m.PingFrame = true, s.micros(), s.frame()
		m.Advantage = math.Float32frombits(uint32(s.u64()))
	}
	if flags&2 != 0 {
		m.HasPong, m.PongTime, m.PongHold = true, s.micros(), s.micros()
	}
	if flags&4 != 0 {
		m.HasChecksum, m.ChecksumFrame, m.Checksum = true, s.frame(), s.u64()
	}
	// Inputs last, so that the fields above do not depend on how many
	// bytes the inputs took.
	var prev uint16
	for range frames * n {
		switch {
		case mode == 0 || s.u8()%5 == 0:
			prev = uint16(s.u8()) | uint16(s.u8())<<8
		case mode == 1:
			prev = uint16(s.u8() & 0x0f)
		}
		m.Inputs = append(m.Inputs, prev)
	}
	return m, n
}
