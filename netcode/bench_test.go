//go:build !js

package netcode

import (
	"context"
	"encoding/binary"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/pion/datachannel"
	"github.com/pion/webrtc/v4"
)

func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(len(sorted)-1, int(p*float64(len(sorted))))]
}

// reportLatency reports p50 and p99, and p99.9 when there are at least
// 1000 samples.
func reportLatency(b *testing.B, samples []time.Duration, unit time.Duration, name string) {
	slices.Sort(samples)
	for _, p := range []struct {
		q    float64
		name string
	}{{0.5, "p50"}, {0.99, "p99"}, {0.999, "p99.9"}} {
		if p.q > 0.99 && len(samples) < 1000 {
			continue
		}
		b.ReportMetric(float64(percentile(samples, p.q))/float64(unit), p.name+"-"+name)
	}
}

// BenchmarkConnect measures connecting two peers in one process over
// loopback through the memory signaler: from the offerer's CreateOffer to
// both data channels open on both sides, with lyn's tuning and with pion's
// stock timings. Run with -benchtime=50x.
func BenchmarkConnect(b *testing.B) {
	b.Run("tuned", func(b *testing.B) { benchConnect(b, loopback) })
	b.Run("pion-defaults", func(b *testing.B) {
		benchConnect(b, Config{LoopbackOnly: true, PionTimings: true, DTLSHelloVerify: true})
	})
}

// BenchmarkConnectRelay is BenchmarkConnect with both peers forced through
// a TURN server on loopback. pion's default waits a second before
// accepting relay pairs. Run with -benchtime=10x.
func BenchmarkConnectRelay(b *testing.B) {
	relay := loopback
	relay.ICEServers = []webrtc.ICEServer{startTURN(b)}
	relay.ICETransportPolicy = webrtc.ICETransportPolicyRelay
	b.Run("tuned", func(b *testing.B) { benchConnect(b, relay) })
	relay.PionTimings, relay.DTLSHelloVerify = true, true
	b.Run("pion-defaults", func(b *testing.B) { benchConnect(b, relay) })
}

func benchConnect(b *testing.B, cfg Config) {
	var openTimes, connectTimes []time.Duration
	ids := []PeerID{1, 2}
	for b.Loop() {
		hub := NewMemorySignaling()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		meshes := make([]*Mesh, 2)
		errs := make([]error, 2)
		var wg sync.WaitGroup
		start := time.Now()
		for i, id := range ids {
			wg.Go(func() { meshes[i], errs[i] = Connect(ctx, id, ids, hub.Signaler(id), cfg) })
		}
		wg.Wait()
		connectTimes = append(connectTimes, time.Since(start))
		cancel()
		for _, err := range errs {
			if err != nil {
				b.Fatal(err)
			}
		}
		off, ans := meshes[0].Link(2).Stats().Timeline, meshes[1].Link(1).Stats().Timeline
		openTimes = append(openTimes, max(off.ChannelsOpen, ans.Start.Add(ans.ChannelsOpen).Sub(off.Start)))
		for _, m := range meshes {
			m.Close()
		}
	}
	reportLatency(b, openTimes, time.Millisecond, "offer-to-open-ms")
	reportLatency(b, connectTimes, time.Millisecond, "Connect-ms")
}

// roundTripper sends one 32-byte packet starting with an 8-byte sequence
// number and waits for its echo, skipping stale echoes of packets it gave
// up on; ok is false if the echo did not come within a second.
type roundTripper interface {
	roundTrip(b *testing.B, pkt []byte) (ok bool)
	close()
}

const echoTimeout = time.Second

// BenchmarkRoundTrip measures the round trip of a 32-byte packet on the
// unreliable channel over loopback, paced about 1 ms apart, through a lyn
// Link (both ends drain Mesh.Receive after Mesh.Arrived) and through bare
// pion data channels (OnMessage callbacks, and detached Read/Write) set up
// with the same SettingEngine. allocs/rt counts every allocation in the
// process (pion's included) per round trip. Run with -benchtime=5000x.
func BenchmarkRoundTrip(b *testing.B) {
	for _, tc := range []struct {
		name string
		make func(b *testing.B) roundTripper
	}{
		{"lyn-Link", newLynRoundTripper},
		{"pion-OnMessage", func(b *testing.B) roundTripper { return newPionRoundTripper(b, false) }},
		{"pion-detached", func(b *testing.B) roundTripper { return newPionRoundTripper(b, true) }},
	} {
		b.Run(tc.name, func(b *testing.B) {
			rt := tc.make(b)
			defer rt.close()
			pkt := make([]byte, 32)
			var seq uint64
			for range 100 { // warm up: buffers, SCTP state
				seq++
				binary.LittleEndian.PutUint64(pkt, seq)
				rt.roundTrip(b, pkt)
			}
			samples := make([]time.Duration, 0, b.N)
			var ms0, ms1 runtime.MemStats
			runtime.ReadMemStats(&ms0)
			n, lost := 0, 0
			for b.Loop() {
				time.Sleep(time.Millisecond)
				seq++
				binary.LittleEndian.PutUint64(pkt, seq)
				t0 := time.Now()
				if rt.roundTrip(b, pkt) {
					samples = append(samples, time.Since(t0))
				} else {
					lost++
				}
				n++
			}
			runtime.ReadMemStats(&ms1)
			b.ReportMetric(float64(ms1.Mallocs-ms0.Mallocs)/float64(n), "allocs/rt")
			b.ReportMetric(float64(lost), "lost")
			reportLatency(b, samples, time.Microsecond, "µs")
		})
	}
}

type lynRoundTripper struct {
	meshes []*Mesh
	link   *Link
	stop   chan struct{}
	done   chan struct{}
}

func newLynRoundTripper(b *testing.B) roundTripper { return newLynRoundTripperWith(b, loopback) }

// newLynRoundTripperWith connects two meshes with cfg and echoes on the
// second.
func newLynRoundTripperWith(b *testing.B, cfg Config) roundTripper {
	meshes := connectAll(b, 2, cfg, nil)
	r := &lynRoundTripper{meshes: meshes, link: meshes[0].Link(2), stop: make(chan struct{}), done: make(chan struct{})}
	echo := meshes[1]
	go func() { // peer 2's game loop: echo every input packet back
		defer close(r.done)
		back := echo.Link(1)
		for {
			select {
			case <-r.stop:
				return
			case <-echo.Arrived():
			}
			for {
				_, _, data, ok := echo.Receive()
				if !ok {
					break
				}
				_ = back.SendInput(data)
			}
		}
	}()
	return r
}

func (r *lynRoundTripper) roundTrip(b *testing.B, pkt []byte) bool {
	if err := r.link.SendInput(pkt); err != nil {
		b.Fatal(err)
	}
	want := binary.LittleEndian.Uint64(pkt)
	timeout := time.NewTimer(echoTimeout)
	defer timeout.Stop()
	for {
		for {
			_, _, data, ok := r.meshes[0].Receive()
			if !ok {
				break
			}
			if len(data) >= 8 && binary.LittleEndian.Uint64(data) == want {
				return true
			}
		}
		select {
		case <-r.meshes[0].Arrived():
		case <-timeout.C:
			return false
		}
	}
}

func (r *lynRoundTripper) close() {
	close(r.stop)
	<-r.done
	for _, m := range r.meshes {
		m.Close()
	}
}

// pionRoundTripper is two bare pion peer connections with one negotiated
// unreliable channel, connected without trickle.
type pionRoundTripper struct {
	pcs    [2]*webrtc.PeerConnection
	dcs    [2]*webrtc.DataChannel
	raw    [2]datachannel.ReadWriteCloser
	echoed chan uint64 // sequence numbers of echoes that came back
	wg     sync.WaitGroup
}

func newPionRoundTripper(b *testing.B, detached bool) roundTripper {
	cfg, _ := loopback.withDefaults()
	se := cfg.settingEngine()
	if detached {
		se.DetachDataChannels()
	}
	api := webrtc.NewAPI(webrtc.WithSettingEngine(se))
	r := &pionRoundTripper{echoed: make(chan uint64, 16)}
	opened := make(chan struct{}, 2)
	no, yes := false, true
	var zero uint16
	for i := range r.pcs {
		pc, err := api.NewPeerConnection(webrtc.Configuration{})
		if err != nil {
			b.Fatal(err)
		}
		dc, err := pc.CreateDataChannel("input", &webrtc.DataChannelInit{Ordered: &no, MaxRetransmits: &zero, Negotiated: &yes, ID: &zero})
		if err != nil {
			b.Fatal(err)
		}
		r.pcs[i], r.dcs[i] = pc, dc
		dc.OnOpen(func() {
			if detached {
				raw, err := dc.Detach()
				if err != nil {
					b.Error(err)
				}
				r.raw[i] = raw
			}
			opened <- struct{}{}
		})
	}
	if !detached {
		r.dcs[1].OnMessage(func(m webrtc.DataChannelMessage) { _ = r.dcs[1].Send(m.Data) })
		r.dcs[0].OnMessage(func(m webrtc.DataChannelMessage) { r.gotEcho(m.Data) })
	}
	offer, err := r.pcs[0].CreateOffer(nil)
	if err != nil {
		b.Fatal(err)
	}
	gathered := webrtc.GatheringCompletePromise(r.pcs[0])
	if err := r.pcs[0].SetLocalDescription(offer); err != nil {
		b.Fatal(err)
	}
	<-gathered
	if err := r.pcs[1].SetRemoteDescription(*r.pcs[0].LocalDescription()); err != nil {
		b.Fatal(err)
	}
	answer, err := r.pcs[1].CreateAnswer(nil)
	if err != nil {
		b.Fatal(err)
	}
	gathered = webrtc.GatheringCompletePromise(r.pcs[1])
	if err := r.pcs[1].SetLocalDescription(answer); err != nil {
		b.Fatal(err)
	}
	<-gathered
	if err := r.pcs[0].SetRemoteDescription(*r.pcs[1].LocalDescription()); err != nil {
		b.Fatal(err)
	}
	for range 2 {
		select {
		case <-opened:
		case <-time.After(10 * time.Second):
			b.Fatal("bare pion channels did not open")
		}
	}
	if detached {
		r.wg.Go(func() { // echo
			buf := make([]byte, 1500)
			for {
				n, err := r.raw[1].Read(buf)
				if err != nil {
					return
				}
				_, _ = r.raw[1].Write(buf[:n])
			}
		})
		r.wg.Go(func() {
			buf := make([]byte, 1500)
			for {
				n, err := r.raw[0].Read(buf)
				if err != nil {
					return
				}
				r.gotEcho(buf[:n])
			}
		})
	}
	return r
}

func (r *pionRoundTripper) gotEcho(data []byte) {
	if len(data) >= 8 {
		select {
		case r.echoed <- binary.LittleEndian.Uint64(data):
		default:
		}
	}
}

func (r *pionRoundTripper) roundTrip(b *testing.B, pkt []byte) bool {
	var err error
	if r.raw[0] != nil {
		_, err = r.raw[0].Write(pkt)
	} else {
		err = r.dcs[0].Send(pkt)
	}
	if err != nil {
		b.Fatal(err)
	}
	want := binary.LittleEndian.Uint64(pkt)
	timeout := time.NewTimer(echoTimeout)
	defer timeout.Stop()
	for {
		select {
		case got := <-r.echoed:
			if got == want {
				return true
			}
		case <-timeout.C:
			return false
		}
	}
}

func (r *pionRoundTripper) close() {
	for _, raw := range r.raw {
		if raw != nil {
			_ = raw.Close()
		}
	}
	for _, pc := range r.pcs {
		_ = pc.GracefulClose()
	}
	r.wg.Wait()
}
