//go:build !js

package main

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lynnet/lyn/internal/countnet"
	"github.com/lynnet/lyn/netcode"
	"github.com/lynnet/lyn/rollback"
	rt "github.com/lynnet/lyn/rollback/rollbacktest"
	"github.com/pion/webrtc/v4"
)

const (
	tickRate = 60
	tick     = time.Second / tickRate
	kib      = 1024.0
)

// BandwidthRow is one path, input pattern and player count at 60 Hz.
type BandwidthRow struct {
	Path    string  `json:"path"` // lyn-webrtc, lyn-udp, pion-32B
	Inputs  string  `json:"inputs"`
	Players int     `json:"players"`
	Seconds float64 `json:"seconds"`
	// UpKiBps is what one peer sends per second to all the others, IPv4
	// and UDP headers included (mean over peers); PerLinkKiBps is that
	// divided among its links (one direction of one pair).
	UpKiBps      float64 `json:"up_kib_s"`
	PerLinkKiBps float64 `json:"per_link_kib_s"`
	// PerLink60 is PerLinkKiBps scaled to exactly 60 frames per second,
	// for runs where the loaded machine kept the peers below it.
	PerLink60 float64 `json:"per_link_kib_s_at_60fps"`
	// DatagramsPerSec and BytesPerDatagram are per peer, all links.
	DatagramsPerSec  float64 `json:"datagrams_s"`
	BytesPerDatagram float64 `json:"wire_bytes_per_datagram"`
	// SACKPerSec and STUNPerSec are, per peer, the WebRTC datagrams that
	// carry no data: 65-byte DTLS records holding one SCTP SACK chunk alone
	// (pion/sctp does not bundle it with DATA), and STUN (ICE keepalives
	// and consent checks). Zero for the UDP path.
	SACKPerSec float64 `json:"sack_datagrams_s"`
	STUNPerSec float64 `json:"stun_datagrams_s"`
	// LynBytesPerPacket is lyn's own encoding per packet (0: not lyn).
	LynBytesPerPacket float64 `json:"lyn_bytes_per_packet"`
	FramesPerSec      float64 `json:"frames_s"`
	RollbacksPerSec   float64 `json:"rollbacks_s"`
	// CPUPercent is CPU time per peer as a percentage of one core.
	CPUPercent float64 `json:"cpu_pct_per_peer"`
	Err        string  `json:"error,omitempty"`
}

// measureBandwidthWebRTC plays a lyn game through the signaling server,
// every player's pion sockets counted.
func measureBandwidthWebRTC(sig *signalServer, players int, inputs string, d time.Duration) BandwidthRow {
	row := BandwidthRow{Path: "lyn-webrtc", Inputs: inputs, Players: players}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	g, err := joinGame(ctx, sig, players, 0, true, netcode.Config{LoopbackOnly: true})
	if err != nil {
		row.Err = err.Error()
		return row
	}
	defer g.close()
	start := make([]countnet.Snapshot, players)
	wire := make([]countnet.Snapshot, players)
	var lyn0, lyn1 []netcode.TransportStats
	res, err := g.run(inputPattern(inputs, 11)).play(d, func(begin bool) {
		for i, n := range g.nets {
			ts := g.players[i].TransportStats()
			if begin {
				start[i] = n.Sent.Snapshot()
				lyn0 = append(lyn0, ts)
			} else {
				wire[i] = n.Sent.Snapshot().Minus(start[i])
				lyn1 = append(lyn1, ts)
			}
		}
	})
	if err != nil {
		row.Err = err.Error()
	}
	var pkts, bytes, lynPkts, lynBytes, sacks, stun uint64
	for i := range wire {
		pkts += wire[i].Packets
		bytes += wire[i].WireBytes()
		sacks += wire[i].BySize[sackDatagram]
		stun += wire[i].STUN
		if i < len(lyn1) && i < len(lyn0) {
			lynPkts += lyn1[i].PacketsSent - lyn0[i].PacketsSent
			lynBytes += lyn1[i].BytesSent - lyn0[i].BytesSent
		}
	}
	fillBandwidth(&row, res, pkts, bytes, lynPkts, lynBytes)
	fillOverhead(&row, res.window, sacks, stun)
	return row
}

// sackDatagram is the UDP payload size of a DTLS 1.2 AES-GCM record holding
// an SCTP packet with one SACK chunk and no gap blocks: 13 record header +
// 8 explicit nonce + 12 SCTP common header + 16 SACK + 16 tag.
const sackDatagram = 65

func fillOverhead(row *BandwidthRow, window time.Duration, sacks, stun uint64) {
	if secs := window.Seconds(); secs > 0 {
		row.SACKPerSec = float64(sacks) / secs / float64(row.Players)
		row.STUNPerSec = float64(stun) / secs / float64(row.Players)
	}
}

// measureBandwidthUDP plays a lyn game over lyn's UDP transport, counted
// by its own statistics.
func measureBandwidthUDP(players int, inputs string, d time.Duration) BandwidthRow {
	row := BandwidthRow{Path: "lyn-udp", Inputs: inputs, Players: players}
	us, err := listenUDPMesh(players)
	if err != nil {
		row.Err = err.Error()
		return row
	}
	defer func() {
		for _, u := range us {
			u.Close()
		}
	}()
	ids := nodeIDs(players)
	g := &gameRun{input: inputPattern(inputs, 11)}
	trs := make([]*netcode.Transport[rt.Input], players)
	for i, u := range us {
		tr, err := netcode.NewTransport(u, inputCodec, nil)
		if err != nil {
			row.Err = err.Error()
			return row
		}
		s, err := rollback.NewSession(rollback.Config[rt.Input]{Players: ids, Self: ids[i]}, rollback.Game[rt.Input](rt.NewGame(players, 11)), tr)
		if err != nil {
			row.Err = err.Error()
			return row
		}
		trs[i] = tr
		g.sessions = append(g.sessions, s)
	}
	s0 := make([]netcode.UDPStats, players)
	l0 := make([]netcode.TransportStats, players)
	var pkts, bytes, lynPkts, lynBytes uint64
	res, err := g.play(d, func(begin bool) {
		for i, u := range us {
			s, l := u.Stats(), trs[i].Stats()
			if begin {
				s0[i], l0[i] = s, l
				continue
			}
			pkts += s.DatagramsSent - s0[i].DatagramsSent
			bytes += s.BytesSent - s0[i].BytesSent
			lynPkts += l.PacketsSent - l0[i].PacketsSent
			lynBytes += l.BytesSent - l0[i].BytesSent
		}
	})
	if err != nil {
		row.Err = err.Error()
	}
	bytes += countnet.IPUDPHeaders * pkts
	fillBandwidth(&row, res, pkts, bytes, lynPkts, lynBytes)
	return row
}

// fillBandwidth turns totals over every peer into per-peer rates.
func fillBandwidth(row *BandwidthRow, res gameResult, pkts, wireBytes, lynPkts, lynBytes uint64) {
	secs := res.window.Seconds()
	if secs <= 0 {
		return
	}
	n := float64(row.Players)
	row.Seconds = secs
	row.UpKiBps = float64(wireBytes) / kib / secs / n
	row.PerLinkKiBps = row.UpKiBps / max(1, n-1)
	row.DatagramsPerSec = float64(pkts) / secs / n
	row.BytesPerDatagram = float64(wireBytes) / max(1, float64(pkts))
	if lynPkts > 0 {
		row.LynBytesPerPacket = float64(lynBytes) / float64(lynPkts)
	}
	row.FramesPerSec = float64(res.frames) / secs / n
	row.PerLink60 = row.PerLinkKiBps
	if row.FramesPerSec > 0 {
		row.PerLink60 = row.PerLinkKiBps * tickRate / row.FramesPerSec
	}
	row.RollbacksPerSec = float64(res.rollbacks) / secs / n
	row.CPUPercent = 100 * res.used.cpu.Seconds() / secs / n
}

// measureBandwidthPion is the reference: two bare pion peers, each sending
// 32 bytes at 60 Hz on an unreliable, unordered negotiated channel,
// sockets counted.
func measureBandwidthPion(d time.Duration) BandwidthRow {
	row := BandwidthRow{Path: "pion-32B", Inputs: "32 B", Players: 2}
	r, err := playBarePion(d)
	if err != nil {
		row.Err = err.Error()
		return row
	}
	w := r.wire[0]
	w1 := r.wire[1]
	fillBandwidth(&row, gameResult{window: r.window, used: r.used}, w.Packets+w1.Packets, w.WireBytes()+w1.WireBytes(), 0, 0)
	fillOverhead(&row, r.window, w.BySize[sackDatagram]+w1.BySize[sackDatagram], w.STUN+w1.STUN)
	row.FramesPerSec = float64(r.sends) / r.window.Seconds()
	row.PerLink60 = row.PerLinkKiBps * tickRate / max(1, row.FramesPerSec)
	return row
}

type pionResult struct {
	wire   [2]countnet.Snapshot
	window time.Duration
	sends  uint64
	used   usage
}

// playBarePion is the reference: two bare pion peers, each sending 32 bytes
// at 60 Hz on an unreliable, unordered negotiated channel, sockets counted.
func playBarePion(d time.Duration) (pionResult, error) {
	var nets [2]*countnet.Net
	var pcs [2]*webrtc.PeerConnection
	var dcs [2]*webrtc.DataChannel
	defer func() {
		for _, pc := range pcs {
			if pc != nil {
				pc.Close()
			}
		}
	}()
	opened := make(chan struct{}, 2)
	id, zero, no, yes := uint16(0), uint16(0), false, true
	for i := range pcs {
		n, err := countnet.New()
		if err != nil {
			return pionResult{}, err
		}
		nets[i] = n
		se := loopbackSettings()
		se.SetNet(n)
		pc, err := webrtc.NewAPI(webrtc.WithSettingEngine(se)).NewPeerConnection(webrtc.Configuration{})
		if err != nil {
			return pionResult{}, err
		}
		pcs[i] = pc
		dc, err := pc.CreateDataChannel("input", &webrtc.DataChannelInit{Negotiated: &yes, ID: &id, Ordered: &no, MaxRetransmits: &zero})
		if err != nil {
			return pionResult{}, err
		}
		dcs[i] = dc
		dc.OnOpen(func() { opened <- struct{}{} })
		dc.OnMessage(func(webrtc.DataChannelMessage) {})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := connectPair(ctx, pcs[0], pcs[1]); err != nil {
		return pionResult{}, err
	}
	for range 2 {
		select {
		case <-opened:
		case <-ctx.Done():
			return pionResult{}, errors.New("bare pion: channels did not open")
		}
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var sends atomic.Uint64
	for _, dc := range dcs {
		wg.Go(func() {
			msg := make([]byte, 32)
			p := newPacer()
			defer p.stop()
			for p.wait(stop) {
				if dc.Send(msg) == nil {
					sends.Add(1)
				}
			}
		})
	}
	time.Sleep(500 * time.Millisecond) // let both senders and SCTP settle
	var r pionResult
	var s0 [2]countnet.Snapshot
	for i, n := range nets {
		s0[i] = n.Sent.Snapshot()
	}
	u, sends0 := readUsage(), sends.Load()
	time.Sleep(d)
	r.used = u.since()
	for i, n := range nets {
		r.wire[i] = n.Sent.Snapshot().Minus(s0[i])
	}
	r.window = time.Since(u.wall)
	r.sends = (sends.Load() - sends0) / 2
	close(stop)
	wg.Wait()
	return r, nil
}

// pacer ticks at 60 Hz on average: a tick that comes late (the machine is
// shared) is followed by the ones it delayed, as a fixed-timestep game loop
// catches up, rather than dropped as time.Ticker drops them, so the rate
// the byte counts are divided by is the rate a game sends at. It gives up
// catching up after 100 ms behind.
type pacer struct {
	next  time.Time
	timer *time.Timer
}

func newPacer() *pacer {
	return &pacer{next: time.Now(), timer: newStoppedTimer()}
}

// wait waits for the next tick; false means stop was closed.
func (p *pacer) wait(stop <-chan struct{}) bool {
	p.next = p.next.Add(tick)
	d := time.Until(p.next)
	if d < -100*time.Millisecond {
		p.next, d = time.Now(), 0
	}
	if d <= 0 {
		select {
		case <-stop:
			return false
		default:
			return true
		}
	}
	p.timer.Reset(d)
	select {
	case <-stop:
		return false
	case <-p.timer.C:
		return true
	}
}

func (p *pacer) stop() { p.timer.Stop() }

func newStoppedTimer() *time.Timer {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return t
}
