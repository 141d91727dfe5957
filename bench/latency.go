//go:build !js

package main

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lynnet/lyn/netcode"
	"github.com/lynnet/lyn/rollback"
	"github.com/pion/webrtc/v4"
)

// payloadSize is the size of every latency message: a 32-byte input.
const payloadSize = 32

// Latency message layout: kind, origin node, echoing node, unused, sequence
// number, send time (ns since the run's epoch, monotonic), then filler that
// does not compress (lyn's wire format run-length encodes inputs).
const (
	kindPing = 1
	kindPong = 2
)

// LatencyRow is one path, mode and mesh size.
type LatencyRow struct {
	Path  string `json:"path"`
	Mode  string `json:"mode"` // "paced60" or "b2b"
	Peers int    `json:"peers"`
	// OneWay and RTT are in microseconds.
	OneWay Dist `json:"one_way_us"`
	RTT    Dist `json:"rtt_us"`
	// Messages is every message sent in the window (pings and pongs);
	// Lost the pings whose pong never came.
	Messages   int     `json:"messages"`
	Lost       int     `json:"lost"`
	Seconds    float64 `json:"seconds"`
	CPUPerMsg  float64 `json:"cpu_us_per_msg"`
	AllocsMsg  float64 `json:"allocs_per_msg"`
	BytesAlloc float64 `json:"alloc_bytes_per_msg"`
	Err        string  `json:"error,omitempty"`

	rttSamples []float64
}

// latHarness is the measuring logic every path shares: each node sends
// pings (on its ticks, or back to back when the previous pong returns),
// answers pings with pongs, and records one-way times (ping received) and
// round trips (pong received). Paths call onTick and onRecv from whatever
// goroutine they deliver on.
type latHarness struct {
	n, b2bPeer int
	b2b        bool
	epoch      time.Time
	// recording marks the pings sent now as measured (byte 3 of the
	// message): their one-way times and round trips are recorded whenever
	// they arrive. running lets a back-to-back chain go on.
	recording atomic.Bool
	running   atomic.Bool
	seq       atomic.Uint32
	sent      atomic.Uint64 // messages sent while recording
	pingsSent atomic.Uint64
	progress  atomic.Uint64 // pongs received, for the back-to-back watchdog
	ticks     []chan struct{}

	mu     sync.Mutex
	oneWay []float64
	rtt    []float64
}

func newLatHarness(n int, b2b bool) *latHarness {
	h := &latHarness{n: n, b2b: b2b, b2bPeer: 1, epoch: time.Now(), ticks: make([]chan struct{}, n)}
	for i := range h.ticks {
		h.ticks[i] = make(chan struct{}, 1)
	}
	return h
}

func (h *latHarness) now() int64 { return int64(time.Since(h.epoch)) }

type sendFunc func(to int, p []byte) error

// fillPing writes a ping from node from to node to into p.
func (h *latHarness) fillPing(p []byte, from, to int) {
	seq := h.seq.Add(1)
	p[0], p[1], p[2], p[3] = kindPing, byte(from), byte(to), 0
	if h.recording.Load() {
		p[3] = 1
	}
	binary.LittleEndian.PutUint32(p[4:], seq)
	binary.LittleEndian.PutUint64(p[8:], uint64(h.now()))
	x := uint64(seq)*0x9e3779b97f4a7c15 | 1
	for i := 16; i < payloadSize; i++ {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		p[i] = byte(x)
	}
}

func (h *latHarness) countSend(err error) {
	if err == nil && h.recording.Load() {
		h.sent.Add(1)
	}
}

// onTick sends node at's pings: to every other node when paced, to the
// back-to-back partner otherwise (a kick-off, or a retry after a loss).
func (h *latHarness) onTick(at int, send sendFunc) {
	var p [payloadSize]byte
	for to := range h.n {
		if to == at || (h.b2b && to != h.b2bPeer) {
			continue
		}
		h.fillPing(p[:], at, to)
		err := send(to, p[:])
		h.countSend(err)
		if err == nil && h.recording.Load() {
			h.pingsSent.Add(1)
		}
	}
}

// onRecv handles a message node at received. p may be modified.
func (h *latHarness) onRecv(at int, p []byte, send sendFunc) {
	if len(p) < 16 {
		return
	}
	d := float64(h.now()-int64(binary.LittleEndian.Uint64(p[8:]))) / 1e3
	measured := p[3] == 1
	switch p[0] {
	case kindPing:
		if measured {
			h.mu.Lock()
			h.oneWay = append(h.oneWay, d)
			h.mu.Unlock()
		}
		p[0] = kindPong
		h.countSend(send(int(p[1]), p))
	case kindPong:
		if measured {
			h.mu.Lock()
			h.rtt = append(h.rtt, d)
			h.mu.Unlock()
		}
		h.progress.Add(1)
		if h.b2b && h.running.Load() {
			h.onTick(at, send)
		}
	}
}

// drive runs the ticks: at 60 Hz per node (staggered, as independent games
// would be), or a kick-off and a watchdog when back to back. It records for
// window after warm, stops sending, and waits a grace period for the
// replies to the last measured pings.
func (h *latHarness) drive(warm, window time.Duration) (usage, time.Duration) {
	stop := make(chan struct{})
	h.running.Store(true)
	var wg sync.WaitGroup
	if h.b2b {
		wg.Go(func() {
			h.ticks[0] <- struct{}{}
			last := h.progress.Load()
			t := time.NewTicker(200 * time.Millisecond)
			defer t.Stop()
			for {
				select {
				case <-stop:
					return
				case <-t.C:
				}
				if p := h.progress.Load(); p == last {
					select { // lost: start again
					case h.ticks[0] <- struct{}{}:
					default:
					}
				} else {
					last = p
				}
			}
		})
	} else {
		for i := range h.n {
			wg.Go(func() {
				time.Sleep(tick * time.Duration(i) / time.Duration(h.n))
				p := newPacer()
				defer p.stop()
				for p.wait(stop) {
					select {
					case h.ticks[i] <- struct{}{}:
					default:
					}
				}
			})
		}
	}
	time.Sleep(warm)
	u := readUsage()
	h.recording.Store(true)
	time.Sleep(window)
	h.recording.Store(false)
	used := u.since()
	el := time.Since(u.wall)
	h.running.Store(false)
	close(stop)
	wg.Wait()
	time.Sleep(latencyGrace)
	return used, el
}

// latencyGrace is how long a slice waits for the replies to its last pings
// (a reply later than that counts as lost).
const latencyGrace = 50 * time.Millisecond

// latencyNet is one path carrying the harness's messages between n nodes.
type latencyNet interface{ close() }

type latencyPath struct {
	key  string
	open func(ctx context.Context, h *latHarness) (latencyNet, error)
}

func latencyPaths() []latencyPath {
	return []latencyPath{
		{"udp", openUDPLatency},
		{"pion", openPionLatency},
		{"lyn-webrtc", openMeshLatency},
		{"lyn-udp", openLynUDPLatency},
	}
}

// measureLatency opens every path for peers nodes and measures one mode,
// the paths taking turns in slices of window/slices: they are open together
// and measured in turns, so a burst of load from the machine's other jobs
// falls on all of them rather than on one.
func measureLatency(paths []latencyPath, peers int, b2b bool, warm, window time.Duration, slices int) []LatencyRow {
	slices = max(1, slices)
	mode := "paced60"
	if b2b {
		mode = "b2b"
	}
	rows := make([]LatencyRow, len(paths))
	hs := make([]*latHarness, len(paths))
	nets := make([]latencyNet, len(paths))
	used := make([]usage, len(paths))
	elapsed := make([]time.Duration, len(paths))
	for i, p := range paths {
		rows[i] = LatencyRow{Path: p.key, Mode: mode, Peers: peers}
		hs[i] = newLatHarness(peers, b2b)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		ln, err := p.open(ctx, hs[i])
		cancel()
		if err != nil {
			rows[i].Err = err.Error()
			continue
		}
		nets[i] = ln
	}
	for c := range slices {
		w := warm
		if c > 0 {
			w = min(warm, 50*time.Millisecond) // re-warm after idling
		}
		for i, h := range hs {
			if nets[i] == nil {
				continue
			}
			u, el := h.drive(w, window/time.Duration(slices))
			used[i].cpu += u.cpu
			used[i].mallocs += u.mallocs
			used[i].bytes += u.bytes
			elapsed[i] += el
		}
	}
	for i, h := range hs {
		if nets[i] == nil {
			continue
		}
		nets[i].close()
		rows[i].fill(h, used[i], elapsed[i])
	}
	return rows
}

func (row *LatencyRow) fill(h *latHarness, used usage, el time.Duration) {
	h.mu.Lock()
	defer h.mu.Unlock()
	row.OneWay, row.RTT = summarize(h.oneWay), summarize(h.rtt)
	row.rttSamples = h.rtt
	row.Messages = int(h.sent.Load())
	row.Lost = max(0, int(h.pingsSent.Load())-len(h.rtt))
	row.Seconds = el.Seconds()
	if row.Messages > 0 {
		m := float64(row.Messages)
		row.CPUPerMsg = float64(used.cpu.Nanoseconds()) / 1e3 / m
		row.AllocsMsg = float64(used.mallocs) / m
		row.BytesAlloc = float64(used.bytes) / m
	}
	if row.RTT.N == 0 {
		row.Err = "no round trip completed"
	}
}

// udpLatency is the floor: one socket per node on loopback; each node's
// reader goroutine answers pings itself, and a tick goroutine sends pings.
type udpLatency struct {
	conns []*net.UDPConn
	wg    sync.WaitGroup
	stop  chan struct{}
}

func openUDPLatency(_ context.Context, h *latHarness) (latencyNet, error) {
	u := &udpLatency{stop: make(chan struct{})}
	for range h.n {
		c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			u.close()
			return nil, err
		}
		u.conns = append(u.conns, c)
	}
	addrs := make([]netip.AddrPort, len(u.conns))
	for i, c := range u.conns {
		addrs[i] = c.LocalAddr().(*net.UDPAddr).AddrPort()
	}
	for i, c := range u.conns {
		send := func(to int, p []byte) error {
			_, err := c.WriteToUDPAddrPort(p, addrs[to])
			return err
		}
		u.wg.Go(func() {
			b := make([]byte, 2048)
			for {
				n, _, err := c.ReadFromUDPAddrPort(b)
				if err != nil {
					return
				}
				h.onRecv(i, b[:n], send)
			}
		})
		u.wg.Go(func() {
			for {
				select {
				case <-u.stop:
					return
				case <-h.ticks[i]:
					h.onTick(i, send)
				}
			}
		})
	}
	return u, nil
}

func (u *udpLatency) close() {
	close(u.stop)
	for _, c := range u.conns {
		c.Close()
	}
	u.wg.Wait()
}

// pionLatency is a full mesh of bare pion peer connections, one unreliable
// unordered negotiated channel per pair, OnMessage answering pings. No lyn
// code is involved.
type pionLatency struct {
	pcs  []*webrtc.PeerConnection
	stop chan struct{}
	wg   sync.WaitGroup
}

func openPionLatency(ctx context.Context, h *latHarness) (latencyNet, error) {
	pl := &pionLatency{stop: make(chan struct{})}
	api := webrtc.NewAPI(webrtc.WithSettingEngine(loopbackSettings()))
	dcs := make([][]*webrtc.DataChannel, h.n)
	for i := range dcs {
		dcs[i] = make([]*webrtc.DataChannel, h.n)
	}
	sends := make([]sendFunc, h.n)
	for i := range sends {
		sends[i] = func(to int, p []byte) error {
			if dc := dcs[i][to]; dc != nil {
				return dc.Send(p)
			}
			return errors.New("no channel")
		}
	}
	opened := make(chan struct{}, h.n*h.n)
	for i := range h.n {
		for j := i + 1; j < h.n; j++ {
			a, err := api.NewPeerConnection(webrtc.Configuration{})
			if err != nil {
				pl.close()
				return nil, err
			}
			pl.pcs = append(pl.pcs, a)
			b, err := api.NewPeerConnection(webrtc.Configuration{})
			if err != nil {
				pl.close()
				return nil, err
			}
			pl.pcs = append(pl.pcs, b)
			id, zero, no, yes := uint16(0), uint16(0), false, true
			init := &webrtc.DataChannelInit{Negotiated: &yes, ID: &id, Ordered: &no, MaxRetransmits: &zero}
			for _, e := range []struct {
				pc       *webrtc.PeerConnection
				self, to int
			}{{a, i, j}, {b, j, i}} {
				dc, err := e.pc.CreateDataChannel("input", init)
				if err != nil {
					pl.close()
					return nil, err
				}
				dcs[e.self][e.to] = dc
				dc.OnOpen(func() { opened <- struct{}{} })
				dc.OnMessage(func(m webrtc.DataChannelMessage) { h.onRecv(e.self, m.Data, sends[e.self]) })
			}
			if err := connectPair(ctx, a, b); err != nil {
				pl.close()
				return nil, err
			}
		}
	}
	for range h.n * (h.n - 1) {
		select {
		case <-opened:
		case <-ctx.Done():
			pl.close()
			return nil, fmt.Errorf("bare pion: channels did not open: %w", ctx.Err())
		}
	}
	for i := range h.n {
		pl.wg.Go(func() {
			for {
				select {
				case <-pl.stop:
					return
				case <-h.ticks[i]:
					h.onTick(i, sends[i])
				}
			}
		})
	}
	return pl, nil
}

func (pl *pionLatency) close() {
	close(pl.stop)
	pl.wg.Wait()
	for _, pc := range pl.pcs {
		pc.Close()
	}
}

// input32 is a 32-byte input, so lyn carries the same payload as the
// other paths: one frame of one player's input per message.
type input32 [payloadSize]byte

type input32Codec struct{}

func (input32Codec) Size() int                  { return payloadSize }
func (input32Codec) Put(dst []byte, in input32) { copy(dst, in[:]) }
func (input32Codec) Get(src []byte) (input32, error) {
	var in input32
	if len(src) != payloadSize {
		return in, fmt.Errorf("input is %d bytes, want %d: %w", len(src), payloadSize, rollback.ErrBadInput)
	}
	copy(in[:], src)
	return in, nil
}

// lynLatency is lyn's input path over WebRTC or plain UDP: each node's
// game goroutine, woken by Arrived or its tick, encodes a one-frame input
// message with netcode.Transport and decodes what arrives, as a rollback
// session's inputs travel (minus the engine).
type lynLatency struct {
	packets []arrivingPackets
	stop    chan struct{}
	wg      sync.WaitGroup
}

func openMeshLatency(ctx context.Context, h *latHarness) (latencyNet, error) {
	cfgs := make([]netcode.Config, h.n)
	for i := range cfgs {
		cfgs[i] = netcode.Config{LoopbackOnly: true}
	}
	meshes, err := connectMeshes(ctx, cfgs)
	if err != nil {
		return nil, err
	}
	packets := make([]arrivingPackets, h.n)
	for i, m := range meshes {
		packets[i] = m
	}
	return startLynLatency(h, packets)
}

func openLynUDPLatency(_ context.Context, h *latHarness) (latencyNet, error) {
	us, err := listenUDPMesh(h.n)
	if err != nil {
		return nil, err
	}
	packets := make([]arrivingPackets, h.n)
	for i, u := range us {
		packets[i] = u
	}
	return startLynLatency(h, packets)
}

func nodeIDs(n int) []netcode.PeerID {
	ids := make([]netcode.PeerID, n)
	for i := range ids {
		ids[i] = netcode.PeerID(i + 1)
	}
	return ids
}

func startLynLatency(h *latHarness, packets []arrivingPackets) (latencyNet, error) {
	l := &lynLatency{packets: packets, stop: make(chan struct{})}
	for i, p := range packets {
		tr, err := netcode.NewTransport(p, rollback.InputCodec[input32](input32Codec{}), nil)
		if err != nil {
			l.close()
			return nil, err
		}
		var m rollback.Message[input32]
		send := func(to int, b []byte) error {
			m.Reset()
			m.Kind = rollback.KindInput
			m.Frame = rollback.Frame(binary.LittleEndian.Uint32(b[4:]) & 0x3fffffff)
			m.Ack = m.Frame - 1
			m.PerFrame = 1
			m.Inputs = append(m.Inputs[:0], input32(b[:payloadSize]))
			before := tr.Stats().PacketsSent
			tr.Send(netcode.PeerID(to+1), &m)
			if tr.Stats().PacketsSent == before {
				return errors.New("lyn: packet not sent")
			}
			return nil
		}
		l.wg.Go(func() { // node i's game goroutine
			var in input32
			for {
				select {
				case <-l.stop:
					return
				case <-h.ticks[i]:
					h.onTick(i, send)
				case <-p.Arrived():
				}
				for {
					_, msg, ok := tr.Receive()
					if !ok {
						break
					}
					if len(msg.Inputs) == 1 {
						in = msg.Inputs[0]
						h.onRecv(i, in[:], send)
					}
				}
			}
		})
	}
	return l, nil
}

func (l *lynLatency) close() {
	close(l.stop)
	l.wg.Wait()
	for _, p := range l.packets {
		if p != nil {
			p.Close()
		}
	}
}
