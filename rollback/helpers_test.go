package rollback

import (
	"encoding/binary"
	"errors"
	"time"
)

// sumGame is a minimal deterministic game for the engine's own unit tests:
// its state mixes every input into a running hash.
type sumGame struct {
	frame int32
	acc   uint64
	last  []uint16
}

func newSumGame(players int) *sumGame { return &sumGame{last: make([]uint16, players)} }

func (g *sumGame) Save(dst []byte) []byte {
	dst = binary.LittleEndian.AppendUint32(dst, uint32(g.frame))
	dst = binary.LittleEndian.AppendUint64(dst, g.acc)
	for _, v := range g.last {
		dst = binary.LittleEndian.AppendUint16(dst, v)
	}
	return dst
}

func (g *sumGame) Load(b []byte) error {
	if len(b) != 12+2*len(g.last) {
		return errors.New("sumGame: bad state length")
	}
	g.frame = int32(binary.LittleEndian.Uint32(b))
	g.acc = binary.LittleEndian.Uint64(b[4:])
	for i := range g.last {
		g.last[i] = binary.LittleEndian.Uint16(b[12+2*i:])
	}
	return nil
}

func (g *sumGame) Advance(in []PlayerInput[uint16]) {
	g.frame++
	for i, pi := range in {
		g.acc = g.acc*1099511628211 + uint64(pi.Input) + uint64(i)
		if pi.Status == Disconnected {
			g.acc ^= 1 << 40
		}
		g.last[i] = pi.Input
	}
}

// fakeClock is a manual clock.
type fakeClock struct{ t time.Time }

func (c *fakeClock) Now() time.Time { return c.t }

// pipeNet is a lossless in-memory network with a fixed delay in ticks.
type pipeNet struct {
	tick  int
	delay int
	queue map[PeerID][]pipeMsg
	drop  func(from, to PeerID) bool
}

type pipeMsg struct {
	from PeerID
	due  int
	m    Message[uint16]
}

func newPipeNet(delay int) *pipeNet { return &pipeNet{delay: delay, queue: map[PeerID][]pipeMsg{}} }

type pipeEnd struct {
	n    *pipeNet
	id   PeerID
	last Message[uint16]
}

func (n *pipeNet) end(id PeerID) *pipeEnd { return &pipeEnd{n: n, id: id} }

func (e *pipeEnd) Send(to PeerID, m *Message[uint16]) {
	if e.n.drop != nil && e.n.drop(e.id, to) {
		return
	}
	var c Message[uint16]
	c.CopyFrom(m)
	e.n.queue[to] = append(e.n.queue[to], pipeMsg{from: e.id, due: e.n.tick + e.n.delay, m: c})
}

func (e *pipeEnd) Receive() (PeerID, *Message[uint16], bool) {
	q := e.n.queue[e.id]
	for i, pm := range q {
		if pm.due <= e.n.tick {
			e.n.queue[e.id] = append(q[:i:i], q[i+1:]...)
			e.last = pm.m
			return pm.from, &e.last, true
		}
	}
	return 0, nil, false
}

// checksumLog records what a session confirms.
type checksumLog struct {
	frames []uint16 // player 0's input per frame, as a fingerprint of the stream
	inputs [][]PlayerInput[uint16]
	sums   map[Frame]uint64
	next   Frame
	err    error
}

func newChecksumLog() *checksumLog { return &checksumLog{sums: map[Frame]uint64{}} }

func (l *checksumLog) RecordFrame(f Frame, in []PlayerInput[uint16]) {
	if f != l.next && l.err == nil {
		l.err = errors.New("frames out of order")
	}
	l.next = f + 1
	l.inputs = append(l.inputs, append([]PlayerInput[uint16](nil), in...))
}

func (l *checksumLog) RecordChecksum(f Frame, sum uint64) { l.sums[f] = sum }
