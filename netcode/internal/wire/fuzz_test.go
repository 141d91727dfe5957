package wire

import (
	"bytes"
	"errors"
	"slices"
	"testing"

	"github.com/lynnet/lyn/rollback"
)

// allocBound is the most a decoder may allocate for one packet of at most
// MaxPacketSize bytes, from a fresh Codec and Message: scratch and result
// for MaxInputs inputs, MaxInputBytes of expanded bytes, statuses, and the
// error path.
const allocBound = 128 << 10

// retained is what a Codec and a Message hold after decoding: the decoder
// allocates only by growing these (and a small error on failure), so the
// fuzz targets check them exactly, every run; TestDecodeAllocBound
// measures the real allocations of the worst packets.
func retained(c *Codec[uint16], m *rollback.Message[uint16]) int {
	return cap(c.raw) + cap(c.tok) + 2*cap(c.inputs) + 8*cap(c.status) +
		2*cap(m.Inputs) + 8*cap(m.Status) + cap(m.State)
}

func seedPackets(f *testing.F) {
	for _, g := range mustGoldens(f) {
		f.Add(g.bytes)
	}
	f.Add([]byte{})
	f.Add([]byte{0x92, 0x02, 0x01})
	f.Add([]byte{0x9c, 0x01, 0x02, 0x07, 0xce, 0x7f, 0xff, 0xff, 0xff, 0x00, 0x40, 0x7f, 0xc4, 0x01, 0xff, 0x90})
}

func FuzzDecodeMessage(f *testing.F) {
	seedPackets(f)
	prefill := rollback.Message[uint16]{Kind: rollback.KindInput, Frame: 7, Ack: 3, Inputs: []uint16{1, 2, 3},
		Status: []rollback.PlayerStatus{{LastFrame: 9}}, HasPong: true, PongTime: 5, State: []byte{1}}
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > 2*MaxPacketSize {
			return // the allocation bound is about network-sized packets
		}
		c := newCodec(t)
		var m rollback.Message[uint16]
		m.CopyFrom(&prefill)
		n, err := c.DecodeMessage(b, &m)
		if used := retained(c, &m); used > allocBound && len(b) <= MaxPacketSize {
			t.Fatalf("decoding %d bytes grew buffers to %d bytes", len(b), used)
		}
		if err != nil {
			if !identical(&m, &prefill) {
				t.Fatalf("rejected packet (%v) changed the message: %+v", err, m)
			}
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrVersion) && !errors.Is(err, ErrUnknownType) {
				t.Fatalf("unexpected error class: %v", err)
			}
			return
		}
		// Whatever decodes re-encodes to a packet that decodes the same.
		if m.Kind == rollback.KindInput && len(m.Inputs) > 0 && (n == 0 || len(m.Inputs)%n != 0) {
			t.Fatalf("decoded %d inputs with %d per frame", len(m.Inputs), n)
		}
		out, frames, err := c.AppendMessage(nil, &m, n)
		if err != nil {
			t.Fatalf("re-encoding a decoded message: %v", err)
		}
		var m2 rollback.Message[uint16]
		if _, err := c.DecodeMessage(out, &m2); err != nil {
			t.Fatalf("decoding re-encoded %x: %v", out, err)
		}
		if n > 0 {
			m.Inputs = m.Inputs[:frames*n]
		}
		if !sameMessage(&m, &m2) {
			t.Fatalf("re-encoded message differs:\n%+v\n%+v", m, m2)
		}
	})
}

func FuzzDecodeControl(f *testing.F) {
	seedPackets(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > 2*MaxSDPLen {
			return
		}
		prefill := Control{Type: TypeHello, Hello: Hello{Session: 1, Peer: 2, Players: []rollback.PeerID{2, 3}, App: "x"}}
		c := prefill
		c.Hello.Players = slices.Clone(prefill.Hello.Players)
		err := DecodeControl(b, &c)
		if used := 8*cap(c.Hello.Players) + len(c.Hello.App) + len(c.Bye.Reason) + len(c.ICERestart.SDP); used > 8*MaxPlayers+len(b) {
			t.Fatalf("decoding %d bytes kept %d bytes", len(b), used)
		}
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrVersion) && !errors.Is(err, ErrUnknownType) {
				t.Fatalf("unexpected error class: %v", err)
			}
			if errors.Is(err, ErrVersion) && c.Type == TypeBye {
				return // a bye of another version is decoded on purpose
			}
			if !sameControl(&c, &prefill) {
				t.Fatalf("rejected packet (%v) changed the control: %+v", err, c)
			}
			return
		}
		out, err := AppendControl(nil, &c)
		if err != nil {
			t.Fatalf("re-encoding: %v", err)
		}
		var c2 Control
		if err := DecodeControl(out, &c2); err != nil || !sameControl(&c, &c2) {
			t.Fatalf("re-encoded control differs (%v):\n%+v\n%+v", err, c, c2)
		}
	})
}

func sameControl(a, b *Control) bool {
	if a.Type != b.Type {
		return false
	}
	switch a.Type {
	case TypeHello:
		return a.Hello.Session == b.Hello.Session && a.Hello.Peer == b.Hello.Peer &&
			slices.Equal(a.Hello.Players, b.Hello.Players) && a.Hello.App == b.Hello.App
	case TypeBye:
		return a.Bye == b.Bye
	case TypeICERestart:
		return a.ICERestart == b.ICERestart
	}
	return false
}

// FuzzRoundTrip encodes a random message and checks that the packet is
// within its size limit, holds the oldest frames, and decodes to the same
// message.
func FuzzRoundTrip(f *testing.F) {
	f.Add([]byte{1, 2, 3})
	f.Add(bytes.Repeat([]byte{0x55}, 64))
	f.Add(bytes.Repeat([]byte{0xff}, 400))
	f.Add([]byte{1, 8, 149, 0, 0xff, 0xff, 0xff, 0xff, 0xff})
	// input, n=1, 4 frames, frame, ack, 2 statuses, every group
	f.Add([]byte{1, 1, 4, 1, 2, 5, 2, 7, 2, 3, 0, 3, 0, 7, 7, 0, 1, 2, 3, 4, 5, 6, 7, 1, 0, 1, 1, 1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 2, 9})
	c := newCodec(f)
	var got rollback.Message[uint16]
	f.Fuzz(func(t *testing.T, b []byte) {
		m, n := genMessage(&src{b})
		out, frames, err := c.AppendMessage(nil, &m, n)
		if err != nil {
			t.Fatalf("encode: %v", err)
		}
		limit := MaxPacketSize
		if m.Kind == rollback.KindSnapshot {
			limit = MaxControlSize
		}
		if len(out) > limit {
			t.Fatalf("%s packet of %d bytes", m.Kind, len(out))
		}
		if n > 0 {
			if frames > len(m.Inputs)/n || frames > MaxFrames {
				t.Fatalf("%d frames of %d", frames, len(m.Inputs)/n)
			}
			m.Inputs = m.Inputs[:frames*n]
		}
		pn, err := c.DecodeMessage(out, &got)
		if err != nil {
			t.Fatalf("decode %x: %v", out, err)
		}
		if m.Kind == rollback.KindInput && pn != n {
			t.Fatalf("decoded %d per frame, sent %d", pn, n)
		}
		if !sameMessage(&m, &got) {
			t.Fatalf("round trip differs:\n%+v\n%+v", m, got)
		}
	})
}
