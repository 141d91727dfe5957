//go:build !js

package main

import (
	"context"
	"errors"
	"fmt"
	"github.com/lynnet/lyn/internal/countnet"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lynnet/lyn/netcode"
	"github.com/lynnet/lyn/rollback"
	rt "github.com/lynnet/lyn/rollback/rollbacktest"
	"github.com/pion/webrtc/v4"
)

const (
	tickRate  = 60
	tick      = time.Second / tickRate
	kib       = 1024.0
	webrtcKiB = 9.0 // goals, KiB/s per peer per direction
	udpKiB    = 4.5
)

// direction is what one peer sent to the other during the window.
type direction struct {
	wire     countnet.Snapshot // counted datagrams (WebRTC); only packets/bytes for UDP
	lynPkts  uint64            // lyn wire packets handed to the layer below
	lynBytes uint64
}

// bytesResult is one path's measurement: both directions over window.
type bytesResult struct {
	dirs   [2]direction
	window time.Duration
	frames uint64 // frames peer 1 advanced in the window
	rolls  uint64 // rollbacks on peer 1 in the window
	sends  uint64 // bare pion: messages peer 1 sent in the window
}

func (r bytesResult) kibps(i int) float64 {
	return float64(r.dirs[i].wire.WireBytes()) / kib / r.window.Seconds()
}

func (r bytesResult) worst() float64 { return max(r.kibps(0), r.kibps(1)) }

func runBytes(d time.Duration) bool {
	fmt.Printf("## Bytes on the wire, 2 players at 60 Hz, %v of real-time play per path\n\n", d)
	ok := true
	type row struct {
		name, goal string
		goalKiB    float64
		run        func(time.Duration) (bytesResult, error)
	}
	rows := []row{
		{"bare pion data channel, 32 B each way at 60 Hz", "(reference)", 0, playBarePion},
		{"lyn over WebRTC (rollback session, reference game)", "≤ 9 KiB/s", webrtcKiB, playWebRTC},
		{"lyn over UDP (rollback session, reference game)", "≤ 4.5 KiB/s", udpKiB, playUDP},
	}
	results := make([]bytesResult, len(rows))
	errs := make([]error, len(rows))
	for i, r := range rows {
		results[i], errs[i] = r.run(d)
	}
	fmt.Println("| path | KiB/s 1→2 | KiB/s 2→1 | datagrams/s 1→2 | bytes/datagram 1→2 | lyn payload B/packet | frames/s | rollbacks/s | goal | result |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|---|")
	for i, r := range rows {
		if errs[i] != nil {
			fmt.Printf("| %s | failed: %v | | | | | | | %s | MISS |\n", r.name, errs[i], r.goal)
			ok = false
			continue
		}
		res := results[i]
		d0 := res.dirs[0]
		verdict := ""
		if r.goalKiB > 0 {
			verdict = passMiss(res.worst() <= r.goalKiB)
		}
		payload, fps := "32", fmt.Sprintf("%.1f sends", float64(res.sends)/res.window.Seconds())
		if d0.lynPkts > 0 {
			payload = fmt.Sprintf("%.1f", float64(d0.lynBytes)/float64(d0.lynPkts))
		}
		if res.frames > 0 {
			fps = fmt.Sprintf("%.1f", float64(res.frames)/res.window.Seconds())
		}
		rolls := ""
		if res.frames > 0 {
			rolls = fmt.Sprintf("%.1f", float64(res.rolls)/res.window.Seconds())
		}
		fmt.Printf("| %s | %.2f | %.2f | %.1f | %.1f | %s | %s | %s | %s | %s |\n", r.name, res.kibps(0), res.kibps(1),
			float64(d0.wire.Packets)/res.window.Seconds(), float64(d0.wire.WireBytes())/float64(max(1, d0.wire.Packets)),
			payload, fps, rolls, r.goal, verdict)
	}
	fmt.Println()
	fmt.Printf("KiB/s counts every datagram one peer sent to the other: IPv4 %d + UDP payload (DTLS, SCTP data and SACKs, STUN keepalives included). 1 KiB = 1024 bytes.\n\n", countnet.IPUDPHeaders)
	for i, r := range rows {
		if errs[i] == nil && results[i].dirs[0].wire.DTLS > 0 {
			fmt.Printf("Where the bytes go, %s, 1→2:\n\n%s\n", r.name, breakdown(results[i]))
		}
	}
	return ok
}

// breakdown explains a WebRTC direction's datagrams by size. DTLS hides
// SCTP, so the classes are inferred from sizes: a 65-byte DTLS datagram is
// an SCTP packet holding one SACK chunk and nothing else (37 DTLS + 12 SCTP
// common header + 16 SACK). pion/sctp (v1.12) never bundles a SACK with
// DATA: it sends one alone for every second DATA packet it receives.
func breakdown(r bytesResult) string {
	w := r.dirs[0].wire
	secs := r.window.Seconds()
	type sz struct {
		size int
		n    uint64
	}
	var sizes []sz
	for s, n := range w.BySize {
		if n > 0 {
			sizes = append(sizes, sz{s, n})
		}
	}
	slices.SortFunc(sizes, func(a, b sz) int { return int(b.n) - int(a.n) })
	out := "| UDP payload bytes | datagrams/s | KiB/s incl. IP+UDP | likely |\n|---|---|---|---|\n"
	for i, s := range sizes {
		if i == 6 {
			break
		}
		likely := "SCTP DATA: one message"
		switch {
		case s.size == 65:
			likely = "SCTP SACK alone"
		case s.size < 65:
			likely = "other"
		}
		out += fmt.Sprintf("| %d | %.1f | %.2f | %s |\n", s.size, float64(s.n)/secs,
			float64(s.n)*float64(s.size+countnet.IPUDPHeaders)/kib/secs, likely)
	}
	out += "\nA DATA datagram is 28 IPv4+UDP + 37 DTLS 1.2 record (13 header, 8 explicit nonce, 16 AES-GCM tag) + 12 SCTP common header + 16 DATA chunk header + the message padded to 4 bytes. pion/sctp sends a 65-byte SACK alone for every second DATA packet received; it never bundles it with DATA going the other way."
	out += fmt.Sprintf("\nSTUN datagrams (ICE keepalives): %.2f/s. DTLS datagrams: %.1f/s.", float64(w.STUN)/secs, float64(w.DTLS)/secs)
	if r.dirs[0].lynPkts > 0 {
		lyn := float64(r.dirs[0].lynBytes) / kib / secs
		out += fmt.Sprintf(" lyn's own bytes: %.2f KiB/s (%.1f packets/s); everything else (IP, UDP, DTLS, SCTP, SACKs, STUN) is %.2f KiB/s.",
			lyn, float64(r.dirs[0].lynPkts)/secs, float64(w.WireBytes())/kib/secs-lyn)
	}
	return out + "\n"
}

// playWebRTC plays a 2-peer session over lyn's Mesh, each peer's sockets
// counted by its own countingNet.
func playWebRTC(d time.Duration) (bytesResult, error) {
	var nets [2]*countnet.Net
	var cfgs [2]netcode.Config
	for i := range nets {
		n, err := countnet.New()
		if err != nil {
			return bytesResult{}, err
		}
		nets[i] = n
		cfgs[i] = netcode.Config{LoopbackOnly: true, Net: n}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	meshes, err := connectMeshes(ctx, cfgs)
	if err != nil {
		return bytesResult{}, err
	}
	defer meshes[0].Close()
	defer meshes[1].Close()
	var start [2]countnet.Snapshot
	return play([2]netcode.Packets{meshes[0], meshes[1]}, d, func(begin bool, r *bytesResult) {
		for i, n := range nets {
			if begin {
				start[i] = n.Sent.Snapshot()
			} else {
				r.dirs[i].wire = n.Sent.Snapshot().Minus(start[i])
			}
		}
	})
}

// playUDP plays a 2-peer session over lyn's UDP transport; its own counters
// give datagrams and UDP payload bytes.
func playUDP(d time.Duration) (bytesResult, error) {
	us, err := listenUDPPair()
	if err != nil {
		return bytesResult{}, err
	}
	defer us[0].Close()
	defer us[1].Close()
	var start [2]netcode.UDPStats
	return play([2]netcode.Packets{us[0], us[1]}, d, func(begin bool, r *bytesResult) {
		for i, u := range us {
			s := u.Stats()
			if begin {
				start[i] = s
			} else {
				r.dirs[i].wire = countnet.Snapshot{Packets: s.DatagramsSent - start[i].DatagramsSent, Bytes: s.BytesSent - start[i].BytesSent}
			}
		}
	})
}

// play runs a 2-player rollback session of the reference game over
// packets, each peer on its own goroutine ticking at 60 Hz of real time
// with inputs from rt.ReferenceInput. Once both run, mark(true) starts the
// window and mark(false) ends it d later.
func play(packets [2]netcode.Packets, d time.Duration, mark func(begin bool, r *bytesResult)) (bytesResult, error) {
	const seed = 11
	ids := []rollback.PeerID{1, 2}
	var (
		trs      [2]*netcode.Transport[rt.Input]
		sessions [2]*rollback.Session[rt.Input]
	)
	for i := range ids {
		tr, err := netcode.NewTransport(packets[i], inputCodec, nil)
		if err != nil {
			return bytesResult{}, err
		}
		s, err := rollback.NewSession(rollback.Config[rt.Input]{Players: ids, Self: ids[i]}, rollback.Game[rt.Input](rt.NewGame(2, seed)), tr)
		if err != nil {
			return bytesResult{}, err
		}
		trs[i], sessions[i] = tr, s
	}
	var (
		running [2]atomic.Bool
		stop    = make(chan struct{})
		errs    [2]error
		wg      sync.WaitGroup
		mu      sync.Mutex // guards stats reads of the sessions at the marks
	)
	input := rt.ReferenceInput(seed)
	for i := range ids {
		wg.Go(func() {
			s := sessions[i]
			p := newPacer()
			defer p.stop()
			var events []rollback.Event
			for p.wait(stop) {
				mu.Lock()
				err := s.AddLocalInput(i, input(i, s.Frame()+rollback.Frame(s.InputDelay())))
				if err == nil || rollback.IsWait(err) {
					err = s.AdvanceFrame()
				}
				events = s.Events(events[:0])
				mu.Unlock()
				switch {
				case err == nil:
					running[i].Store(true)
				case !rollback.IsWait(err):
					errs[i] = err
					return
				}
			}
		})
	}
	finish := func() (bytesResult, error) {
		close(stop)
		wg.Wait()
		for _, s := range sessions {
			s.Close()
		}
		return bytesResult{}, errors.Join(errs[:]...)
	}
	for deadline := time.Now().Add(5 * time.Second); !running[0].Load() || !running[1].Load(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			finish()
			return bytesResult{}, errors.New("sessions did not start within 5 s")
		}
	}
	var r bytesResult
	snap := func(begin bool) (frames, rolls uint64, lyn [2]netcode.TransportStats) {
		mu.Lock()
		defer mu.Unlock()
		mark(begin, &r)
		st := sessions[0].Stats()
		return st.FramesAdvanced, st.Rollbacks, [2]netcode.TransportStats{trs[0].Stats(), trs[1].Stats()}
	}
	t0 := time.Now()
	f0, r0, l0 := snap(true)
	time.Sleep(d)
	f1, r1, l1 := snap(false)
	r.window = time.Since(t0)
	r.frames, r.rolls = f1-f0, r1-r0
	for i := range r.dirs {
		r.dirs[i].lynPkts = l1[i].PacketsSent - l0[i].PacketsSent
		r.dirs[i].lynBytes = l1[i].BytesSent - l0[i].BytesSent
	}
	if _, err := finish(); err != nil {
		return r, err
	}
	return r, nil
}

// playBarePion is the reference: two bare pion peers, each sending 32 bytes
// at 60 Hz on an unreliable, unordered negotiated channel, sockets counted.
func playBarePion(d time.Duration) (bytesResult, error) {
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
			return bytesResult{}, err
		}
		nets[i] = n
		se := loopbackSettings()
		se.SetNet(n)
		pc, err := webrtc.NewAPI(webrtc.WithSettingEngine(se)).NewPeerConnection(webrtc.Configuration{})
		if err != nil {
			return bytesResult{}, err
		}
		pcs[i] = pc
		dc, err := pc.CreateDataChannel("input", &webrtc.DataChannelInit{Negotiated: &yes, ID: &id, Ordered: &no, MaxRetransmits: &zero})
		if err != nil {
			return bytesResult{}, err
		}
		dcs[i] = dc
		dc.OnOpen(func() { opened <- struct{}{} })
		dc.OnMessage(func(webrtc.DataChannelMessage) {})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := connectPair(ctx, pcs[0], pcs[1]); err != nil {
		return bytesResult{}, err
	}
	for range 2 {
		select {
		case <-opened:
		case <-ctx.Done():
			return bytesResult{}, errors.New("bare pion: channels did not open")
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
	var r bytesResult
	var s0 [2]countnet.Snapshot
	for i, n := range nets {
		s0[i] = n.Sent.Snapshot()
	}
	t0, sends0 := time.Now(), sends.Load()
	time.Sleep(d)
	for i, n := range nets {
		r.dirs[i].wire = n.Sent.Snapshot().Minus(s0[i])
	}
	r.window = time.Since(t0)
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
