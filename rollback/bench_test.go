//go:build !js

package rollback

import (
	"syscall"
	"testing"
	"time"
)

// cpuTime is the CPU time this process has used: on a loaded machine it
// measures the engine's cost where wall time measures the neighbours too.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchNet delivers every message a fixed number of ticks after it was sent,
// reusing message buffers so that it allocates nothing in steady state: the
// allocations a benchmark reports are the engine's.
type benchNet struct {
	tick  int
	delay int
	ends  map[PeerID]*benchEnd
}

type benchEnd struct {
	net   *benchNet
	id    PeerID
	queue []benchSlot // FIFO; all links have the same delay, so due order is send order
	head  int
	free  []*Message[uint16]
	last  *Message[uint16]
}

type benchSlot struct {
	from PeerID
	due  int
	m    *Message[uint16]
}

func newBenchNet(delay int) *benchNet { return &benchNet{delay: delay, ends: map[PeerID]*benchEnd{}} }

func (n *benchNet) end(id PeerID) *benchEnd {
	e := &benchEnd{net: n, id: id}
	n.ends[id] = e
	return e
}

func (e *benchEnd) Send(to PeerID, m *Message[uint16]) {
	dst := e.net.ends[to]
	var c *Message[uint16]
	if k := len(dst.free); k > 0 {
		c, dst.free = dst.free[k-1], dst.free[:k-1]
	} else {
		c = new(Message[uint16])
	}
	c.CopyFrom(m)
	if dst.head > 0 && dst.head >= len(dst.queue)/2 {
		n := copy(dst.queue, dst.queue[dst.head:])
		dst.queue, dst.head = dst.queue[:n], 0
	}
	dst.queue = append(dst.queue, benchSlot{from: e.id, due: e.net.tick + e.net.delay, m: c})
}

func (e *benchEnd) Receive() (PeerID, *Message[uint16], bool) {
	if e.last != nil {
		e.free = append(e.free, e.last)
		e.last = nil
	}
	if e.head == len(e.queue) || e.queue[e.head].due > e.net.tick {
		return 0, nil, false
	}
	s := e.queue[e.head]
	e.head++
	e.last = s.m
	return s.from, s.m, true
}

// benchGame is the trivial game: saving, loading and advancing cost ~0.
type benchGame struct {
	frame uint32
	acc   uint32
}

func (g *benchGame) Save(dst []byte) []byte {
	return append(dst, byte(g.frame), byte(g.frame>>8), byte(g.frame>>16), byte(g.frame>>24),
		byte(g.acc), byte(g.acc>>8), byte(g.acc>>16), byte(g.acc>>24))
}

func (g *benchGame) Load(b []byte) error {
	g.frame = uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
	g.acc = uint32(b[4]) | uint32(b[5])<<8 | uint32(b[6])<<16 | uint32(b[7])<<24
	return nil
}

func (g *benchGame) Advance(in []PlayerInput[uint16]) {
	g.frame++
	for _, p := range in {
		g.acc = g.acc*31 + uint32(p.Input)
	}
}

// benchmarkSessions runs players single-player peers in lock step; every
// b.Loop iteration is one frame on every peer. With rollback, each remote
// input arrives 8 frames late and differs from the prediction, so every
// frame rolls back 8 frames.
func benchmarkSessions(b *testing.B, players int, rollback bool) {
	delay, changeEvery := 0, 1<<30
	if rollback {
		delay, changeEvery = 8, 1
	}
	net := newBenchNet(delay)
	clock := &fakeClock{t: time.Unix(0, 0)}
	ids := make([]PeerID, players)
	for i := range ids {
		ids[i] = PeerID(i)
	}
	sessions := make([]*Session[uint16], players)
	for i := range sessions {
		s, err := NewSession(Config[uint16]{Players: ids, Self: ids[i], Clock: clock}, Game[uint16](&benchGame{}), Transport[uint16](net.end(ids[i])))
		if err != nil {
			b.Fatal(err)
		}
		sessions[i] = s
	}
	tick := func() {
		net.tick++
		clock.t = clock.t.Add(time.Second / 60)
		for i, s := range sessions {
			s.AddLocalInput(i, uint16((net.tick/changeEvery)&0xff))
			if err := s.AdvanceFrame(); err != nil && err != ErrNotSynchronized {
				b.Fatalf("tick %d peer %d: %v", net.tick, i, err)
			}
		}
	}
	for range 600 { // synchronize and warm every buffer up
		tick()
	}
	before := sessions[0].Stats()
	b.ReportAllocs()
	b.ResetTimer()
	start, startCPU := time.Now(), cpuTime()
	for b.Loop() {
		tick()
	}
	elapsed, elapsedCPU := time.Since(start), cpuTime()-startCPU
	after := sessions[0].Stats()
	frames := float64(after.FramesAdvanced - before.FramesAdvanced)
	if frames == 0 {
		b.Fatal("no frame advanced")
	}
	b.ReportMetric(float64(elapsed.Nanoseconds())/float64(b.N)/float64(players), "ns/frame/peer")
	b.ReportMetric(float64(elapsedCPU.Nanoseconds())/float64(b.N)/float64(players), "cpu-ns/frame/peer")
	b.ReportMetric(float64(after.RollbackFrames-before.RollbackFrames)/frames, "resim-frames/frame")
}

func BenchmarkSession(b *testing.B) {
	for _, players := range []int{2, 8} {
		for _, rb := range []bool{false, true} {
			name := "players=" + string(rune('0'+players)) + "/rollback=none"
			if rb {
				name = "players=" + string(rune('0'+players)) + "/rollback=8"
			}
			b.Run(name, func(b *testing.B) { benchmarkSessions(b, players, rb) })
		}
	}
}
