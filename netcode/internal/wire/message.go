package wire

import (
	"math"
	"time"

	"github.com/lynnet/lyn/rollback"
)

// Version is the protocol version this package speaks: the first element
// of every packet.
const Version = 1

// Limits. A decoder rejects (ErrMalformed) a packet beyond any of them; an
// encoder never writes one.
const (
	// MaxPacketSize bounds every packet on the input channel (sync, input,
	// goodbye): it fits an IPv6 path MTU of 1280 with DTLS, SCTP and UDP
	// headers to spare.
	MaxPacketSize = 1200
	// MaxFrames bounds the frames of input one packet carries.
	MaxFrames = 128
	// MaxPlayers bounds players per frame, statuses and a hello's players.
	MaxPlayers = rollback.MaxPlayers
	// MaxInputs bounds frames × players per frame in one packet.
	MaxInputs = 8192
	// MaxInputBytes bounds frames × players per frame × input size: the
	// decompressed inputs of one packet.
	MaxInputBytes = 16384
	// MaxStateSize bounds a snapshot's state.
	MaxStateSize = 1 << 20
	// MaxControlSize bounds every packet on the control channel: a snapshot
	// with the largest state and its header.
	MaxControlSize = MaxStateSize + 32
)

// Type is a packet's message type, its second element. Engine messages
// (1–15) have the numbers of rollback.MessageKind; control messages are 16
// and up.
type Type uint8

// Message types.
const (
	TypeSync     Type = Type(rollback.KindSync)     // input channel
	TypeInput    Type = Type(rollback.KindInput)    // input channel
	TypeSnapshot Type = Type(rollback.KindSnapshot) // control channel
	TypeGoodbye  Type = Type(rollback.KindGoodbye)  // input channel

	TypeHello      Type = 16 // control channel
	TypeBye        Type = 17 // control channel
	TypeICERestart Type = 18 // control channel
)

// Engine reports whether packets of type t carry a rollback.Message (decode
// them with DecodeMessage) rather than a Control (DecodeControl).
func (t Type) Engine() bool { return t >= 1 && t <= 15 }

func (t Type) String() string {
	switch t {
	case TypeSync:
		return "sync"
	case TypeInput:
		return "input"
	case TypeSnapshot:
		return "snapshot"
	case TypeGoodbye:
		return "goodbye"
	case TypeHello:
		return "hello"
	case TypeBye:
		return "bye"
	case TypeICERestart:
		return "ice-restart"
	}
	return "type(?)"
}

// Flag bits of an input packet: which optional field groups follow.
const (
	flagPing     = 1
	flagPong     = 2
	flagChecksum = 4
	flagsKnown   = flagPing | flagPong | flagChecksum
)

// Peek reads a packet's version and type without decoding the rest. It
// returns a *VersionError for another version (with the type it read), and
// ErrMalformed if the packet does not start with an array, a version and a
// type.
func Peek(b []byte) (Type, error) {
	r := reader{b: b}
	_, t, err := header(&r)
	return t, err
}

// header reads the array header, version and type, and returns the
// array's length.
func header(r *reader) (int, Type, error) {
	n := r.arrayLen("packet")
	v := r.uint64("version")
	t := r.uint64("type")
	if r.err == nil && n < 2 {
		r.fail("packet: array shorter than version and type")
	}
	if r.err != nil {
		return 0, 0, malformed("%s", r.what)
	}
	if v != Version {
		return n, Type(min(t, 255)), &VersionError{Got: v, Want: Version}
	}
	if t > 255 {
		return n, 0, ErrUnknownType
	}
	return n, Type(t), nil
}

// Codec encodes and decodes engine messages whose inputs are I. It keeps
// scratch buffers, so it allocates nothing once they have grown; it is not
// safe for concurrent use (use one per goroutine: netcode has one for
// sending and one for receiving).
type Codec[I comparable] struct {
	ic   rollback.InputCodec[I]
	size int

	raw    []byte // encode: raw then delta bytes; decode: expanded bytes
	tok    []byte // encode: token stream
	inputs []I    // decode: inputs before they are committed
	status []rollback.PlayerStatus
}

// NewCodec returns a Codec that encodes inputs with ic.
func NewCodec[I comparable](ic rollback.InputCodec[I]) (*Codec[I], error) {
	if ic == nil {
		return nil, invalid("nil InputCodec")
	}
	if s := ic.Size(); s < 1 || s > 255 {
		return nil, invalid("InputCodec.Size() = %d, want 1 to 255", s)
	}
	return &Codec[I]{ic: ic, size: ic.Size()}, nil
}

// AppendMessage appends the packet for m to dst and returns it with the
// number of frames of input it holds.
//
// perFrame is the number of inputs per frame in m.Inputs (the players the
// sender hosts, or every player on a stream to a spectator); the message
// does not say it, and the packet must. It is ignored for other kinds.
//
// A sync, input or goodbye packet is at most MaxPacketSize bytes: when
// m.Inputs do not fit, the packet holds the oldest frames that do — the
// receiver needs them in order, and the engine repeats the rest. That can be
// none if a single frame of inputs (perFrame × Size bytes, compressed) does
// not fit beside the header: keep perFrame × Size well under 1000 bytes.
// A snapshot packet (for the reliable control channel) is at most
// MaxControlSize bytes. On error dst is returned unchanged.
func (c *Codec[I]) AppendMessage(dst []byte, m *rollback.Message[I], perFrame int) ([]byte, int, error) {
	switch m.Kind {
	case rollback.KindSync:
		dst = append(dst, 0x93, Version, byte(TypeSync))
		return appendUint(dst, m.Fingerprint), 0, nil
	case rollback.KindGoodbye:
		return append(dst, 0x92, Version, byte(TypeGoodbye)), 0, nil
	case rollback.KindSnapshot:
		if len(m.State) > MaxStateSize {
			return dst, 0, invalid("snapshot state is %d bytes, limit %d", len(m.State), MaxStateSize)
		}
		dst = append(dst, 0x94, Version, byte(TypeSnapshot))
		dst = appendInt(dst, int64(m.Frame))
		dst = appendBinHeader(dst, len(m.State))
		return append(dst, m.State...), 0, nil
	case rollback.KindInput:
		return c.appendInput(dst, m, perFrame)
	}
	return dst, 0, invalid("unknown message kind %d", m.Kind)
}

func (c *Codec[I]) appendInput(dst []byte, m *rollback.Message[I], n int) ([]byte, int, error) {
	if n < 0 || n > MaxPlayers || (len(m.Inputs) > 0 && (n == 0 || len(m.Inputs)%n != 0)) {
		return dst, 0, invalid("%d inputs with %d per frame", len(m.Inputs), n)
	}
	if len(m.Status) > MaxPlayers {
		return dst, 0, invalid("%d statuses, limit %d", len(m.Status), MaxPlayers)
	}
	frames := 0
	if n > 0 {
		frames = min(len(m.Inputs)/n, MaxFrames, MaxInputs/n, MaxInputBytes/(n*c.size))
	}
	stride := n * c.size
	raw := grow(c.raw, frames*stride)
	c.raw = raw
	for i, in := range m.Inputs[:frames*n] {
		c.ic.Put(raw[i*c.size:(i+1)*c.size], in)
	}
	xorDelta(raw, stride)

	c.tok = appendTokens(c.tok[:0], raw)
	if inputSize(m, n, frames, len(c.tok)) > MaxPacketSize {
		// The oldest frames that fit: lo always fits, hi never does.
		lo, hi := 0, frames
		for hi-lo > 1 {
			mid := (lo + hi) / 2
			c.tok = appendTokens(c.tok[:0], raw[:mid*stride])
			if inputSize(m, n, mid, len(c.tok)) <= MaxPacketSize {
				lo = mid
			} else {
				hi = mid
			}
		}
		frames = lo
		c.tok = appendTokens(c.tok[:0], raw[:frames*stride])
		if inputSize(m, n, frames, len(c.tok)) > MaxPacketSize {
			return dst, 0, invalid("input packet header does not fit %d bytes", MaxPacketSize)
		}
	}

	flags := byte(0)
	fields := 9
	if m.HasPing {
		flags |= flagPing
		fields++
	}
	if m.HasPong {
		flags |= flagPong
		fields++
	}
	if m.HasChecksum {
		flags |= flagChecksum
		fields++
	}
	frame := int64(m.Frame)
	ref := frame + int64(frames) - 1 // status deltas count back from the last frame sent
	dst = append(dst, 0x90|byte(fields), Version, byte(TypeInput), flags)
	dst = appendInt(dst, frame)
	dst = appendInt(dst, int64(m.Ack)-frame)
	dst = append(dst, byte(n)) // ≤ 64: a positive fixint
	dst = appendUint(dst, uint64(frames))
	dst = appendBinHeader(dst, len(c.tok))
	dst = append(dst, c.tok...)
	dst = appendArrayHeader(dst, len(m.Status))
	for _, st := range m.Status {
		dst = appendInt(dst, statusValue(ref, st))
	}
	if m.HasPing {
		dst = append(dst, 0x93)
		dst = appendInt(dst, micros(m.PingTime))
		dst = appendInt(dst, int64(m.PingFrame)-frame)
		dst = appendFloat32(dst, m.Advantage)
	}
	if m.HasPong {
		dst = append(dst, 0x92)
		dst = appendInt(dst, micros(m.PongTime))
		dst = appendInt(dst, micros(m.PongHold))
	}
	if m.HasChecksum {
		dst = append(dst, 0x92)
		dst = appendInt(dst, int64(m.ChecksumFrame)-frame)
		dst = appendUint(dst, m.Checksum)
	}
	return dst, frames, nil
}

// inputSize is the size of the input packet for m with the given frames
// and token bytes; appendInput writes exactly this many bytes.
func inputSize[I comparable](m *rollback.Message[I], n, frames, tok int) int {
	frame := int64(m.Frame)
	ref := frame + int64(frames) - 1
	size := 4 + sizeInt(frame) + sizeInt(int64(m.Ack)-frame) + 1 + sizeUint(uint64(frames)) +
		sizeBinHeader(tok) + tok + sizeArrayHeader(len(m.Status))
	for _, st := range m.Status {
		size += sizeInt(statusValue(ref, st))
	}
	if m.HasPing {
		size += 1 + sizeInt(micros(m.PingTime)) + sizeInt(int64(m.PingFrame)-frame) + 5
	}
	if m.HasPong {
		size += 1 + sizeInt(micros(m.PongTime)) + sizeInt(micros(m.PongHold))
	}
	if m.HasChecksum {
		size += 1 + sizeInt(int64(m.ChecksumFrame)-frame) + sizeUint(m.Checksum)
	}
	return size
}

// statusValue is 2×(ref − LastFrame) + Disconnected.
func statusValue(ref int64, st rollback.PlayerStatus) int64 {
	v := 2 * (ref - int64(st.LastFrame))
	if st.Disconnected {
		v++
	}
	return v
}

// micros is d in whole microseconds (truncated toward zero).
func micros(d time.Duration) int64 { return int64(d / time.Microsecond) }

func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

// DecodeMessage decodes an engine packet (sync, input, snapshot, goodbye)
// into m, reusing m's slices, and returns the number of inputs per frame the
// packet declares (check it against the players the sender hosts).
//
// Decoding is all or nothing: on any error m is left exactly as it was. The
// errors are a *VersionError (another protocol version: tell the peer and
// the game), ErrUnknownType (ignore the packet and count it; control
// packets give this too) and ErrMalformed (drop it and count it). Input and
// goodbye packets above MaxPacketSize and snapshots above MaxControlSize
// are malformed. Times are decoded from whole microseconds.
func (c *Codec[I]) DecodeMessage(b []byte, m *rollback.Message[I]) (perFrame int, err error) {
	if len(b) > MaxControlSize {
		return 0, malformed("packet of %d bytes, limit %d", len(b), MaxControlSize)
	}
	r := reader{b: b}
	n, t, err := header(&r)
	if err != nil {
		return 0, err
	}
	if t != TypeSnapshot && len(b) > MaxPacketSize {
		return 0, malformed("%s packet of %d bytes, limit %d", t, len(b), MaxPacketSize)
	}
	switch t {
	case TypeSync:
		if n != 3 {
			return 0, malformed("sync: %d elements, want 3", n)
		}
		fp := r.uint64("fingerprint")
		r.done()
		if r.err != nil {
			return 0, malformed("sync: %s", r.what)
		}
		m.Reset()
		m.Kind, m.Fingerprint = rollback.KindSync, fp
		return 0, nil
	case TypeGoodbye:
		if n != 2 {
			return 0, malformed("goodbye: %d elements, want 2", n)
		}
		r.done()
		if r.err != nil {
			return 0, malformed("goodbye: %s", r.what)
		}
		m.Reset()
		m.Kind = rollback.KindGoodbye
		return 0, nil
	case TypeSnapshot:
		if n != 4 {
			return 0, malformed("snapshot: %d elements, want 4", n)
		}
		frame := r.intRange("frame", math.MinInt32, math.MaxInt32)
		state := r.bin("state", MaxStateSize)
		r.done()
		if r.err != nil {
			return 0, malformed("snapshot: %s", r.what)
		}
		m.Reset()
		m.Kind, m.Frame = rollback.KindSnapshot, rollback.Frame(frame)
		m.State = append(m.State, state...)
		return 0, nil
	case TypeInput:
		return c.decodeInput(&r, n, m)
	}
	return 0, ErrUnknownType
}

// decoded input packet fields, before they are committed to a Message.
type inputFields struct {
	frame, ack          int64
	n, frames           int
	flags               int64
	pingTime, pingFrame int64
	adv                 float32
	pongTime, pongHold  int64
	sumFrame            int64
	sum                 uint64
}

const maxMicros = math.MaxInt64 / int64(time.Microsecond)

func (c *Codec[I]) decodeInput(r *reader, fields int, m *rollback.Message[I]) (int, error) {
	var f inputFields
	f.flags = r.intRange("flags", 0, flagsKnown)
	want := 9
	for bit := int64(1); bit <= flagsKnown; bit <<= 1 {
		if f.flags&bit != 0 {
			want++
		}
	}
	if r.err == nil && fields != want {
		r.fail("input: wrong number of elements for its flags")
	}
	f.frame = r.intRange("frame", math.MinInt32, math.MaxInt32)
	f.ack = f.frame + r.intRange("ack", math.MinInt32-f.frame, math.MaxInt32-f.frame)
	f.n = int(r.intRange("players per frame", 0, MaxPlayers))
	f.frames = int(r.intRange("frames", 0, MaxFrames))
	if r.err == nil && (f.n == 0 && f.frames != 0 || f.n*f.frames > MaxInputs || f.n*f.frames*c.size > MaxInputBytes) {
		r.fail("input: too many inputs")
	}
	tok := r.bin("inputs", MaxPacketSize)
	ns := r.arrayLen("status")
	if r.err == nil && ns > MaxPlayers {
		r.fail("status: too many players")
	}
	if r.err != nil {
		return 0, malformed("input: %s", r.what)
	}
	ref := f.frame + int64(f.frames) - 1
	status := grow(c.status, ns)
	c.status = status
	for i := range status {
		v := r.int("status")
		lf := ref - v>>1 // v>>1 is within ±2⁶², ref within ±2³²: no overflow
		if r.err == nil && (lf < math.MinInt32 || lf > math.MaxInt32) {
			r.fail("status: frame out of range")
		}
		status[i] = rollback.PlayerStatus{LastFrame: rollback.Frame(lf), Disconnected: v&1 != 0}
	}
	if f.flags&flagPing != 0 {
		r.group("ping", 3)
		f.pingTime = r.intRange("ping time", -maxMicros, maxMicros)
		f.pingFrame = f.frame + r.intRange("ping frame", math.MinInt32-f.frame, math.MaxInt32-f.frame)
		f.adv = r.float32("advantage")
	}
	if f.flags&flagPong != 0 {
		r.group("pong", 2)
		f.pongTime = r.intRange("pong time", -maxMicros, maxMicros)
		f.pongHold = r.intRange("pong hold", -maxMicros, maxMicros)
	}
	if f.flags&flagChecksum != 0 {
		r.group("checksum", 2)
		f.sumFrame = f.frame + r.intRange("checksum frame", math.MinInt32-f.frame, math.MaxInt32-f.frame)
		f.sum = r.uint64("checksum")
	}
	r.done()
	if r.err != nil {
		return 0, malformed("input: %s", r.what)
	}

	count := f.n * f.frames
	raw := grow(c.raw, count*c.size)
	c.raw = raw
	if !expandTokens(raw, tok) {
		return 0, malformed("input: compressed inputs do not match %d frames of %d players", f.frames, f.n)
	}
	unXor(raw, f.n*c.size)
	inputs := grow(c.inputs, count)
	c.inputs = inputs
	for i := range inputs {
		in, err := c.ic.Get(raw[i*c.size : (i+1)*c.size])
		if err != nil {
			return 0, malformed("input %d: %w", i, err)
		}
		inputs[i] = in
	}

	m.Reset()
	m.Kind = rollback.KindInput
	m.Frame, m.Ack = rollback.Frame(f.frame), rollback.Frame(f.ack)
	m.Inputs = append(m.Inputs, inputs...)
	m.Status = append(m.Status, status...)
	if f.flags&flagPing != 0 {
		m.HasPing, m.PingTime, m.PingFrame, m.Advantage = true, time.Duration(f.pingTime)*time.Microsecond, rollback.Frame(f.pingFrame), f.adv
	}
	if f.flags&flagPong != 0 {
		m.HasPong, m.PongTime, m.PongHold = true, time.Duration(f.pongTime)*time.Microsecond, time.Duration(f.pongHold)*time.Microsecond
	}
	if f.flags&flagChecksum != 0 {
		m.HasChecksum, m.ChecksumFrame, m.Checksum = true, rollback.Frame(f.sumFrame), f.sum
	}
	return f.n, nil
}
