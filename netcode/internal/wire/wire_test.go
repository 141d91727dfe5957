package wire

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lynnet/lyn/rollback"
)

func TestRoundTripGoldenMessages(t *testing.T) {
	c := newCodec(t)
	var m rollback.Message[uint16]
	for name, g := range goldenCases {
		if g.msg == nil {
			continue
		}
		b, _, err := c.AppendMessage([]byte("prefix"), g.msg, g.perFrame)
		if err != nil {
			t.Fatal(name, err)
		}
		if !bytes.HasPrefix(b, []byte("prefix")) {
			t.Fatalf("%s: AppendMessage did not append", name)
		}
		if _, err := c.DecodeMessage(b[6:], &m); err != nil || !sameMessage(&m, g.msg) {
			t.Fatalf("%s: %v %+v", name, err, m)
		}
	}
}

// randomInputs returns frames×n inputs that are all different from frame to
// frame: the worst case for the compression.
func randomInputs(rng *rand.Rand, frames, n int) []uint16 {
	in := make([]uint16, frames*n)
	for i := range in {
		in[i] = uint16(rng.Uint32()) | 0x0101
	}
	return in
}

func TestOldestFramesThatFit(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	c := newCodec(t)
	for _, n := range []int{1, 2, 3, 8, 64} {
		m := rollback.Message[uint16]{Kind: rollback.KindInput, Frame: 1 << 30, Ack: 12,
			Inputs: randomInputs(rng, MaxFrames, n), Status: make([]rollback.PlayerStatus, 64),
			HasPing: true, HasPong: true, HasChecksum: true, PingTime: time.Hour, Checksum: math.MaxUint64}
		for i := range m.Status {
			m.Status[i] = rollback.PlayerStatus{LastFrame: rollback.NoFrame, Disconnected: i%2 == 0}
		}
		b, frames, err := c.AppendMessage(nil, &m, n)
		if err != nil {
			t.Fatal(err)
		}
		if len(b) > MaxPacketSize || frames == 0 && n < 64 {
			t.Fatalf("n=%d: %d bytes, %d frames", n, len(b), frames)
		}
		// One frame more would not have fit.
		if frames < MaxFrames {
			longer := m
			longer.Inputs = m.Inputs[:(frames+1)*n]
			if _, f2, _ := c.AppendMessage(nil, &longer, n); f2 != frames {
				t.Fatalf("n=%d: %d frames fit, but %d of %d sent", n, f2, frames, frames+1)
			}
		}
		var got rollback.Message[uint16]
		if _, err := c.DecodeMessage(b, &got); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got.Inputs, m.Inputs[:frames*n]) || got.Frame != m.Frame || !slices.Equal(got.Status, m.Status) {
			t.Fatalf("n=%d: decoded %d inputs, want the oldest %d", n, len(got.Inputs), frames*n)
		}
		t.Logf("n=%d: %d of %d incompressible frames in %d bytes", n, frames, MaxFrames, len(b))
	}
}

func TestInputLimits(t *testing.T) {
	c := newCodec(t)
	// Constant inputs compress to almost nothing: the limits on frames and
	// decompressed bytes decide.
	for _, tc := range []struct{ n, frames, want int }{
		{1, 500, MaxFrames},
		{64, 200, MaxInputBytes / (64 * 2)},
	} {
		m := rollback.Message[uint16]{Kind: rollback.KindInput, Inputs: make([]uint16, tc.n*tc.frames)}
		for i := range m.Inputs {
			m.Inputs[i] = 3
		}
		b, frames, err := c.AppendMessage(nil, &m, tc.n)
		if err != nil || frames != tc.want {
			t.Fatalf("n=%d: %d frames (%v), want %d", tc.n, frames, err, tc.want)
		}
		var got rollback.Message[uint16]
		if _, err := c.DecodeMessage(b, &got); err != nil || len(got.Inputs) != tc.want*tc.n {
			t.Fatalf("n=%d: %v, %d inputs", tc.n, err, len(got.Inputs))
		}
	}
}

func TestEncodeErrors(t *testing.T) {
	c := newCodec(t)
	for name, tc := range map[string]struct {
		m        rollback.Message[uint16]
		perFrame int
	}{
		"kind":          {m: rollback.Message[uint16]{Kind: 9}},
		"per frame":     {m: rollback.Message[uint16]{Kind: rollback.KindInput, Inputs: []uint16{1, 2, 3}}, perFrame: 2},
		"zero per fr.":  {m: rollback.Message[uint16]{Kind: rollback.KindInput, Inputs: []uint16{1}}, perFrame: 0},
		"too many per":  {m: rollback.Message[uint16]{Kind: rollback.KindInput}, perFrame: 65},
		"statuses":      {m: rollback.Message[uint16]{Kind: rollback.KindInput, Status: make([]rollback.PlayerStatus, 65)}},
		"state too big": {m: rollback.Message[uint16]{Kind: rollback.KindSnapshot, State: make([]byte, MaxStateSize+1)}},
	} {
		b, n, err := c.AppendMessage([]byte{1}, &tc.m, tc.perFrame)
		if !errors.Is(err, ErrInvalidMessage) || len(b) != 1 || n != 0 {
			t.Errorf("%s: %v, %x", name, err, b)
		}
	}
	for _, ctl := range []Control{
		{Type: TypeSync},
		{Type: TypeHello, Hello: Hello{Players: make([]rollback.PeerID, 65)}},
		{Type: TypeHello, Hello: Hello{App: strings.Repeat("a", 256)}},
		{Type: TypeBye, Bye: Bye{Reason: strings.Repeat("a", 256)}},
		{Type: TypeICERestart, ICERestart: ICERestart{Kind: 3}},
		{Type: TypeICERestart, ICERestart: ICERestart{SDP: strings.Repeat("a", MaxSDPLen+1)}},
	} {
		if b, err := AppendControl([]byte{1}, &ctl); !errors.Is(err, ErrInvalidMessage) || len(b) != 1 {
			t.Errorf("%+v: %v", ctl.Type, err)
		}
	}
	if _, err := NewCodec[uint16](nil); !errors.Is(err, ErrInvalidMessage) {
		t.Error(err)
	}
	if _, err := NewCodec[uint16](badSize{}); !errors.Is(err, ErrInvalidMessage) {
		t.Error(err)
	}
}

type badSize struct{ rollback.UintCodec[uint16] }

func (badSize) Size() int { return 256 }

// evenCodec rejects odd inputs.
type evenCodec struct{ rollback.UintCodec[uint16] }

func (c evenCodec) Get(b []byte) (uint16, error) {
	v, _ := c.UintCodec.Get(b)
	if v%2 != 0 {
		return 0, rollback.ErrBadInput
	}
	return v, nil
}

func TestRejectedPacketChangesNothing(t *testing.T) {
	c := newCodec(t)
	var packets [][]byte
	for _, g := range mustGoldens(t) {
		packets = append(packets, g.bytes)
		for i := range len(g.bytes) {
			packets = append(packets, g.bytes[:i])
		}
		packets = append(packets, append(slices.Clone(g.bytes), 0))
	}
	prefill := rollback.Message[uint16]{Kind: rollback.KindSnapshot, Frame: 3, Inputs: []uint16{4}, State: []byte{5}}
	for _, p := range packets {
		var m rollback.Message[uint16]
		m.CopyFrom(&prefill)
		if _, err := c.DecodeMessage(p, &m); err != nil && !identical(&m, &prefill) {
			t.Fatalf("%x: %v changed the message", p, err)
		}
		ctl := Control{Type: TypeBye, Bye: Bye{Reason: "x"}}
		if err := DecodeControl(p, &ctl); err != nil && !sameControl(&ctl, &Control{Type: TypeBye, Bye: Bye{Reason: "x"}}) {
			t.Fatalf("%x: %v changed the control", p, err)
		}
	}

	// An input the game's codec rejects, after everything else decoded.
	even, _ := NewCodec[uint16](evenCodec{})
	b, _, _ := even.AppendMessage(nil, &rollback.Message[uint16]{Kind: rollback.KindInput, Inputs: []uint16{2, 4, 5}, Status: []rollback.PlayerStatus{{}}}, 1)
	var m rollback.Message[uint16]
	m.CopyFrom(&prefill)
	if _, err := even.DecodeMessage(b, &m); !errors.Is(err, ErrMalformed) || !errors.Is(err, rollback.ErrBadInput) || !identical(&m, &prefill) {
		t.Fatalf("%v, %+v", err, m)
	}
}

func TestDecodeErrors(t *testing.T) {
	c := newCodec(t)
	big := append([]byte{0x99, 1, 2, 0, 0, 0, 1, 0, 0xc5, 0x04, 0xb0}, make([]byte, 1200)...)
	big = append(big, 0x90)
	for name, tc := range map[string]struct {
		b    []byte
		want error
	}{
		"empty":              {nil, ErrMalformed},
		"not an array":       {[]byte{0x01}, ErrMalformed},
		"short array":        {[]byte{0x91, 0x01}, ErrMalformed},
		"negative version":   {[]byte{0x92, 0xff, 0x01}, ErrMalformed},
		"version 0":          {[]byte{0x92, 0x00, 0x01}, ErrVersion},
		"huge version":       {[]byte{0x92, 0xcf, 1, 2, 3, 4, 5, 6, 7, 8, 0x01}, ErrVersion},
		"huge type":          {[]byte{0x92, 0x01, 0xcd, 0x01, 0x00}, ErrUnknownType},
		"control type":       {[]byte{0x92, 0x01, 0x10}, ErrUnknownType},
		"sync arity":         {[]byte{0x92, 0x01, 0x01}, ErrMalformed},
		"sync nil":           {[]byte{0x93, 0x01, 0x01, 0xc0}, ErrMalformed},
		"goodbye trailing":   {[]byte{0x92, 0x01, 0x04, 0x00}, ErrMalformed},
		"flags":              {[]byte{0x99, 1, 2, 8, 0, 0, 0, 0, 0xc4, 0, 0x90}, ErrMalformed},
		"flags vs arity":     {[]byte{0x99, 1, 2, 1, 0, 0, 0, 0, 0xc4, 0, 0x90}, ErrMalformed},
		"n=0, k=1":           {[]byte{0x99, 1, 2, 0, 0, 0, 0, 1, 0xc4, 0, 0x90}, ErrMalformed},
		"n=65":               {[]byte{0x99, 1, 2, 0, 0, 0, 65, 1, 0xc4, 0, 0x90}, ErrMalformed},
		"k=129":              {[]byte{0x99, 1, 2, 0, 0, 0, 1, 0xcc, 129, 0xc4, 0, 0x90}, ErrMalformed},
		"n×k×S":              {[]byte{0x99, 1, 2, 0, 0, 0, 64, 0xcc, 128, 0xc4, 0, 0x90}, ErrOK},
		"frame > int32":      {[]byte{0x99, 1, 2, 0, 0xce, 0x80, 0, 0, 0, 0, 0, 0, 0xc4, 0, 0x90}, ErrMalformed},
		"ack < int32":        {[]byte{0x99, 1, 2, 0, 0, 0xd2, 0x80, 0, 0, 0, 0, 0, 0xc4, 0, 0x90}, ErrOK},
		"ack < int32 - 1":    {[]byte{0x99, 1, 2, 0, 0, 0xd3, 0xff, 0xff, 0xff, 0xff, 0x7f, 0xff, 0xff, 0xff, 0, 0, 0xc4, 0, 0x90}, ErrMalformed},
		"status < int32":     {[]byte{0x99, 1, 2, 0, 0, 0, 0, 0, 0xc4, 0, 0x91, 0xcf, 0, 0, 0, 1, 0, 0, 0, 0}, ErrMalformed},
		"status = int32 min": {[]byte{0x99, 1, 2, 0, 0, 0, 0, 0, 0xc4, 0, 0x91, 0xce, 0xff, 0xff, 0xff, 0xff}, ErrOK},
		"65 statuses":        {append([]byte{0x99, 1, 2, 0, 0, 0, 0, 0, 0xc4, 0, 0xdc, 0, 65}, make([]byte, 65)...), ErrMalformed},
		"literal cut":        {[]byte{0x99, 1, 2, 0, 0, 0, 1, 1, 0xc4, 2, 0x01, 0x05, 0x90}, ErrMalformed},
		"literal too long":   {[]byte{0x99, 1, 2, 0, 0, 0, 1, 1, 0xc4, 4, 0x02, 0x05, 0x05, 0x05, 0x90}, ErrMalformed},
		"ping group arity":   {[]byte{0x9a, 1, 2, 1, 0, 0, 0, 0, 0xc4, 0, 0x90, 0x92, 0, 0}, ErrMalformed},
		"ping time":          {[]byte{0x9a, 1, 2, 1, 0, 0, 0, 0, 0xc4, 0, 0x90, 0x93, 0xcf, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0xca, 0, 0, 0, 0}, ErrMalformed},
		"advantage not flt":  {[]byte{0x9a, 1, 2, 1, 0, 0, 0, 0, 0xc4, 0, 0x90, 0x93, 0, 0, 0}, ErrMalformed},
		"advantage float64":  {[]byte{0x9a, 1, 2, 1, 0, 0, 0, 0, 0xc4, 0, 0x90, 0x93, 0, 0, 0xcb, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0}, ErrOK},
		"input > 1200":       {big, ErrMalformed},
		"snapshot not bin":   {[]byte{0x94, 1, 3, 0, 0xa1, 'x'}, ErrMalformed},
		"snapshot bin32":     {[]byte{0x94, 1, 3, 0, 0xc6, 0xff, 0xff, 0xff, 0xff}, ErrMalformed},
	} {
		var m rollback.Message[uint16]
		_, err := c.DecodeMessage(tc.b, &m)
		if tc.want == ErrOK {
			if err != nil {
				t.Errorf("%s: %v", name, err)
			}
			continue
		}
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", name, err, tc.want)
		}
	}
}

// ErrOK marks a test case that must decode.
var ErrOK = errors.New("ok")

func TestVersionErrors(t *testing.T) {
	c := newCodec(t)
	p := []byte{0x92, 0x02, 0x02}
	_, err := c.DecodeMessage(p, &rollback.Message[uint16]{})
	var ve *VersionError
	if !errors.As(err, &ve) || ve.Got != 2 || ve.Want != Version || !errors.Is(err, ErrVersion) {
		t.Fatalf("%v", err)
	}
	if typ, err := Peek(p); typ != TypeInput || !errors.Is(err, ErrVersion) {
		t.Fatalf("Peek: %v %v", typ, err)
	}
	// A bye is read in any version.
	bye := []byte{0x94, 0x07, 0x11, 0x01, 0xa2, 'h', 'i'}
	var ctl Control
	err = DecodeControl(bye, &ctl)
	if !errors.As(err, &ve) || ve.Got != 7 || !sameControl(&ctl, &Control{Type: TypeBye, Bye: Bye{Code: ByeVersion, Reason: "hi"}}) {
		t.Fatalf("%v %+v", err, ctl)
	}
	t.Log(err)
}

func TestControlReusesPlayers(t *testing.T) {
	g := goldenCases["hello"]
	b, _ := AppendControl(nil, g.ctl)
	c := Control{Hello: Hello{Players: make([]rollback.PeerID, 0, 8)}}
	p := &c.Hello.Players[:1][0]
	if err := DecodeControl(b, &c); err != nil || &c.Hello.Players[0] != p {
		t.Fatalf("%v: players not reused", err)
	}
	if typ, _ := Peek(b); typ.String() != "hello" || Type(99).String() != "type(?)" {
		t.Fatal(typ)
	}
}

func TestZeroAllocs(t *testing.T) {
	c := newCodec(t)
	m := typicalMessage(2, 4, 10_000, true)
	buf := make([]byte, 0, MaxPacketSize)
	var out rollback.Message[uint16]
	b, _, _ := c.AppendMessage(buf, &m, 1)
	if _, err := c.DecodeMessage(b, &out); err != nil {
		t.Fatal(err)
	}
	if a := testing.AllocsPerRun(100, func() { b, _, _ = c.AppendMessage(buf[:0], &m, 1) }); a != 0 {
		t.Errorf("AppendMessage: %v allocs", a)
	}
	if a := testing.AllocsPerRun(100, func() { _, _ = c.DecodeMessage(b, &out) }); a != 0 {
		t.Errorf("DecodeMessage: %v allocs", a)
	}
}

// typicalMessage is a peer's input message in a game of players players,
// each peer hosting one: frames unacknowledged inputs from frame at, the
// buttons held for several frames, and with all groups if extras.
func typicalMessage(players, frames int, at rollback.Frame, extras bool) rollback.Message[uint16] {
	m := rollback.Message[uint16]{Kind: rollback.KindInput, Frame: at, Ack: at + rollback.Frame(frames) - 2}
	rng := rand.New(rand.NewPCG(uint64(players), uint64(frames)))
	in := uint16(0x0012)
	for range frames {
		if rng.IntN(8) == 0 { // a button changes about every 8 frames
			in ^= 1 << rng.IntN(10)
		}
		m.Inputs = append(m.Inputs, in)
	}
	last := at + rollback.Frame(frames) - 1
	for p := range players {
		m.Status = append(m.Status, rollback.PlayerStatus{LastFrame: last - rollback.Frame(min(p, 1)*(1+p%3))})
	}
	if extras {
		m.HasPing, m.PingTime, m.PingFrame, m.Advantage = true, 20*time.Minute+time.Duration(at)*time.Millisecond, last+2, 0.75
		m.HasPong, m.PongTime, m.PongHold = true, 20*time.Minute+time.Duration(at)*time.Millisecond-30*time.Millisecond, 3*time.Millisecond
	}
	return m
}

// simulate encodes the packets peer 0 sends peer 1 over a minute at 60 Hz
// in a game of players players, one per peer: every packet repeats the
// last `frames` frames of input (buttons toggling about every 8 frames),
// pings and pongs every 6th packet, a checksum on 4 of every 30, from frame
// start (≥ 65 536 makes frames 5-byte ints, as after 18 minutes). It
// returns the average and largest packet.
func simulate(c *Codec[uint16], players, frames int, start rollback.Frame, buf []byte) (avg float64, largest int) {
	rng := rand.New(rand.NewPCG(uint64(players), uint64(frames)))
	const packets = 3600
	hist := make([]uint16, 0, packets+frames)
	in := uint16(0x0012)
	var m rollback.Message[uint16]
	total := 0
	for i := range packets + frames {
		if rng.IntN(8) == 0 {
			in ^= 1 << rng.IntN(12)
		}
		hist = append(hist, in)
		if i < frames {
			continue
		}
		last := start + rollback.Frame(i)
		m.Reset()
		m.Kind = rollback.KindInput
		m.Frame = last - rollback.Frame(frames) + 1
		m.Inputs = append(m.Inputs, hist[i-frames+1:i+1]...)
		m.Ack = last - rollback.Frame(rng.IntN(3))
		for p := range players {
			lf := last
			if p > 0 {
				lf -= rollback.Frame(rng.IntN(4))
			}
			m.Status = append(m.Status, rollback.PlayerStatus{LastFrame: lf})
		}
		now := 20*time.Minute + time.Duration(i)*16667*time.Microsecond
		if i%6 == 0 {
			m.HasPing, m.PingTime, m.PingFrame, m.Advantage = true, now, last, float32(rng.NormFloat64())
		}
		if i%6 == 3 {
			m.HasPong, m.PongTime, m.PongHold = true, now-40*time.Millisecond, time.Duration(rng.IntN(16000))*time.Microsecond
		}
		if i%30 < 4 {
			m.HasChecksum, m.ChecksumFrame, m.Checksum = true, last-rollback.Frame(i%30)-10, rng.Uint64()
		}
		b, _, err := c.AppendMessage(buf[:0], &m, 1)
		if err != nil {
			panic(err)
		}
		total += len(b)
		largest = max(largest, len(b))
	}
	return float64(total) / packets, largest
}

// TestPacketSizes logs packet sizes by players and redundancy; the
// benchmarks report the same as bytes/packet.
func TestPacketSizes(t *testing.T) {
	c := newCodec(t)
	buf := make([]byte, 0, MaxPacketSize)
	var sb strings.Builder
	fmt.Fprintf(&sb, "\naverage (largest) input packet in bytes, uint16 inputs, one player per peer, 60 Hz, frame > 65535\n")
	fmt.Fprintf(&sb, "players | unacked frames in each packet:   1         2         4         8\n")
	for _, players := range []int{2, 4, 8} {
		fmt.Fprintf(&sb, "%7d |%32s", players, "")
		for _, frames := range []int{1, 2, 4, 8} {
			avg, largest := simulate(c, players, frames, 70_000, buf)
			fmt.Fprintf(&sb, " %5.1f (%2d)", avg, largest)
		}
		sb.WriteString("\n")
	}
	avg, _ := simulate(c, 2, 4, 70_000, buf)
	fmt.Fprintf(&sb, "2 players, 4 frames: %.2f KiB/s per direction over UDP (+28 B IP/UDP), %.2f KiB/s over WebRTC (+97 B DTLS/SCTP/UDP/IP, SACKs not counted)\n",
		(avg+28)*60/1024, (avg+97)*60/1024)
	t.Log(sb.String())
}

// TestDecodeAllocBound measures what decoding the packets that expand the
// most allocates, from a fresh Codec and Message: a 1200-byte packet never
// costs more than allocBound.
func TestDecodeAllocBound(t *testing.T) {
	packets := [][]byte{
		// n = 64, k = 128, S = 1: 8192 inputs from 6 bytes of tokens.
		{0x99, 1, 2, 0, 0, 0, 64, 0xcc, 128, 0xc4, 2, 0x00, 0x01, 0xdc, 0, 64},
		// the same, tokens that fill the whole 8192 bytes
		append([]byte{0x99, 1, 2, 0, 0, 0, 64, 0xcc, 128, 0xc4, 64}, bytes.Repeat([]byte{0xff}, 64)...),
	}
	packets[0] = append(packets[0], make([]byte, 64)...)
	packets[1] = append(packets[1], 0x90)
	for _, p := range packets {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		before := ms.TotalAlloc
		const runs = 10
		for range runs {
			c, _ := NewCodec[uint8](rollback.UintCodec[uint8]{})
			var m rollback.Message[uint8]
			if _, err := c.DecodeMessage(p, &m); err != nil || len(m.Inputs) != MaxInputs {
				t.Fatalf("%v, %d inputs", err, len(m.Inputs))
			}
		}
		runtime.ReadMemStats(&ms)
		per := (ms.TotalAlloc - before) / runs
		if per > allocBound {
			t.Errorf("decoding a %d-byte packet allocates %d bytes", len(p), per)
		}
		t.Logf("decoding a %d-byte packet into %d inputs allocates %d bytes", len(p), MaxInputs, per)
	}
}
