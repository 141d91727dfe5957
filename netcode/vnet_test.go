//go:build !js

package netcode

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pion/transport/v5/vnet"
	"github.com/pion/webrtc/v4"
)

// packetTrace records every datagram the vnet router forwards.
type packetTrace struct {
	mu    sync.Mutex
	start time.Time
	lines []string
	kinds map[string]int
}

func (p *packetTrace) filter(c vnet.Chunk) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	kind := classify(c.UserData())
	p.kinds[kind]++
	p.lines = append(p.lines, fmt.Sprintf("%7.1fms %s -> %s %4dB %s",
		float64(time.Since(p.start).Microseconds())/1000, c.SourceAddr(), c.DestinationAddr(), len(c.UserData()), kind))
	return true
}

// classify names a datagram by its first bytes (RFC 7983 demultiplexing).
func classify(b []byte) string {
	if len(b) == 0 {
		return "empty"
	}
	switch {
	case b[0] <= 3 && len(b) >= 20:
		switch uint16(b[0])<<8 | uint16(b[1]) {
		case 0x0001:
			return "STUN binding request"
		case 0x0101:
			return "STUN binding success"
		case 0x0011:
			return "STUN binding indication"
		}
		return fmt.Sprintf("STUN type %#04x", uint16(b[0])<<8|uint16(b[1]))
	case b[0] >= 20 && b[0] <= 63:
		var parts []string
		for len(b) >= 13 { // one datagram may carry several DTLS records
			n := int(b[11])<<8 | int(b[12])
			rec := b[:min(len(b), 13+n)]
			switch rec[0] {
			case 22:
				if len(rec) > 13 && (rec[3] != 0 || rec[4] != 0) { // epoch > 0: encrypted
					parts = append(parts, "DTLS Finished")
				} else if len(rec) > 13 {
					names := map[byte]string{1: "ClientHello", 2: "ServerHello", 3: "HelloVerifyRequest", 11: "Certificate",
						12: "ServerKeyExchange", 13: "CertificateRequest", 14: "ServerHelloDone", 15: "CertificateVerify", 16: "ClientKeyExchange"}
					name := names[rec[13]]
					if name == "" {
						name = fmt.Sprint("handshake ", rec[13])
					}
					parts = append(parts, "DTLS "+name)
				}
			case 20:
				parts = append(parts, "DTLS ChangeCipherSpec")
			case 21:
				parts = append(parts, "DTLS alert")
			case 23:
				parts = append(parts, "DTLS appdata (SCTP)")
			}
			b = b[len(rec):]
		}
		return strings.Join(parts, "+")
	}
	return "other"
}

// vnetConnect connects two peers on a virtual network where every datagram
// and every signal takes oneWay, with loss percent of datagrams dropped. It
// must run in a synctest bubble.
func vnetConnect(t *testing.T, oneWay time.Duration, loss int, seed int64, cfg Config) (time.Duration, []*Mesh, *packetTrace, error) {
	t.Helper()
	trace := &packetTrace{kinds: map[string]int{}}
	nets, _ := vnetNetwork(t, 2, oneWay, loss, func(i int) int64 { return seed*2 + int64(i) }, trace.filter)
	trace.start = time.Now() // the bubble's clock does not move before the connect blocks
	meshes, elapsed, err := vnetConnectAll(t, nets, oneWay, cfg)
	return elapsed, meshes, trace, err
}

// TestVNetConnectRoundTrips connects two peers over a virtual network with
// 50 ms one-way delay on datagrams and signals, in a synctest bubble (the
// clock only moves while every goroutine waits, so the times are the
// network's, not the CPU's), and reports where the round trips go.
func TestVNetConnectRoundTrips(t *testing.T) {
	const oneWay = 50 * time.Millisecond
	for _, tc := range []struct {
		name string
		cfg  Config
	}{{"tuned", Config{}}, {"pion-defaults", Config{PionTimings: true, DTLSHelloVerify: true}}} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				elapsed, meshes, trace, err := vnetConnect(t, oneWay, 0, 0, tc.cfg)
				if err != nil {
					t.Fatal(err)
				}
				rtts := float64(elapsed) / float64(2*oneWay)
				t.Logf("connect took %v = %.1f round trips of %v", elapsed, rtts, 2*oneWay)
				for _, m := range meshes {
					s := m.Link(3 - m.Self()).Stats()
					tl := s.Timeline
					t.Logf("peer %d (%s): start +%v, remote description %v, ICE connected %v, DTLS connected %v, channels open %v; pair %s/%s",
						m.Self(), map[bool]string{true: "offerer", false: "answerer"}[m.Self() == 1],
						tl.Start.Sub(trace.start), tl.RemoteDescription, tl.ICEConnected, tl.DTLSConnected, tl.ChannelsOpen,
						s.LocalCandidateType, s.RemoteCandidateType)
					if s.LocalCandidateType != webrtc.ICECandidateTypeHost {
						t.Errorf("peer %d: local candidate %s, want host", m.Self(), s.LocalCandidateType)
					}
				}
				trace.mu.Lock()
				for _, l := range trace.lines {
					t.Log(l)
				}
				t.Logf("datagrams by kind: %v", trace.kinds)
				trace.mu.Unlock()
				// Both channels carry data across the virtual network.
				if err := meshes[0].Send(2, ChannelControl, []byte("hello")); err != nil {
					t.Fatal(err)
				}
				if err := meshes[0].Send(2, ChannelInput, []byte("input")); err != nil {
					t.Fatal(err)
				}
				time.Sleep(2 * oneWay)
				synctest.Wait()
				var got []string
				for {
					_, ch, data, ok := meshes[1].Receive()
					if !ok {
						break
					}
					got = append(got, ch.String()+":"+string(data))
				}
				if strings.Join(got, ",") != "control:hello,input:input" {
					t.Errorf("received %q; stats %+v", got, meshes[1].Stats())
				}
			})
		})
	}
}

// TestVNetConnectWithLoss connects over 50 ms one-way delay with 20 % of
// datagrams lost in each direction, several times, with lyn's tuning and
// with pion's defaults, and logs the virtual connect times. It asserts only
// that every connect succeeds (timing goals live in benchmarks).
func TestVNetConnectWithLoss(t *testing.T) {
	const runs = 12
	for _, tc := range []struct {
		name string
		cfg  Config
	}{{"tuned", Config{}}, {"pion-defaults", Config{PionTimings: true, DTLSHelloVerify: true}}} {
		t.Run(tc.name, func(t *testing.T) {
			var times []time.Duration
			for seed := range int64(runs) {
				t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
					synctest.Test(t, func(t *testing.T) {
						elapsed, _, _, err := vnetConnect(t, 50*time.Millisecond, 20, seed, tc.cfg)
						switch {
						case err == nil:
							times = append(times, elapsed)
						case tc.cfg.PionTimings:
							// pion's stock SCTP handshake (INIT, COOKIE-ECHO, RTO
							// backing off from 1 s) sometimes does not finish.
							t.Logf("pion defaults did not connect: %v", err)
						default:
							t.Fatal(err)
						}
					})
				})
			}
			slices.Sort(times)
			if len(times) > 0 {
				t.Logf("20%% loss, 100 ms RTT: %d/%d connected, times %v (median %v)", len(times), runs, times, times[len(times)/2])
			}
		})
	}
}
