//go:build !js

package netcode

import (
	"encoding/binary"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"
)

// closedUDPPort returns a loopback UDP port nothing listens on (it was
// free a moment ago): datagrams to it draw ICMP port-unreachable.
func closedUDPPort(t testing.TB) int {
	t.Helper()
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := pc.LocalAddr().(*net.UDPAddr).Port
	pc.Close()
	return port
}

// TestUnreachableICEServers: a STUN and a TURN URL pointing at a closed
// loopback port come first in the ICE servers, a working TURN server last;
// with either transport policy the peers connect (within connectAll's
// bound), relay-only through the working server.
func TestUnreachableICEServers(t *testing.T) {
	dead := fmt.Sprintf("127.0.0.1:%d", closedUDPPort(t))
	servers := []webrtc.ICEServer{
		{URLs: []string{"stun:" + dead}},
		{URLs: []string{"turn:" + dead + "?transport=udp"}, Username: "user", Credential: "pass"},
		startTURN(t),
	}
	for _, policy := range []webrtc.ICETransportPolicy{webrtc.ICETransportPolicyRelay, webrtc.ICETransportPolicyAll} {
		t.Run(policy.String(), func(t *testing.T) {
			cfg := loopback
			cfg.ICEServers = servers
			cfg.ICETransportPolicy = policy
			start := time.Now()
			meshes := connectAll(t, 2, cfg, nil)
			defer closeAll(t, meshes)
			took := time.Since(start)
			for _, m := range meshes {
				s := m.Stats()[0]
				t.Logf("peer %d: %s %s → %s %s", m.Self(), s.LocalCandidateType, s.LocalAddress, s.RemoteCandidateType, s.RemoteAddress)
				if policy == webrtc.ICETransportPolicyRelay && s.LocalCandidateType != webrtc.ICECandidateTypeRelay {
					t.Errorf("peer %d: local candidate %s under the relay policy", m.Self(), s.LocalCandidateType)
				}
			}
			if err := meshes[0].Send(2, ChannelControl, []byte("past the dead servers")); err != nil {
				t.Fatal(err)
			}
			drain(t, meshes[1], func(r []received) bool { return len(r) == 1 && r[0].data == "past the dead servers" })
			t.Logf("connected in %v with dead servers listed first", took.Round(time.Millisecond))
		})
	}
}

// BenchmarkRoundTripRelay measures what a TURN relay adds to a round trip:
// a 32-byte packet on the unreliable channel, paced ~1 ms apart, between
// two lyn Links on loopback, direct (host ↔ host) and relay-only through
// pion's TURN server on loopback (each direction crosses the relay once,
// from one peer's allocation to the other's). Run with -benchtime=3000x.
func BenchmarkRoundTripRelay(b *testing.B) {
	relayed := loopback
	relayed.ICEServers = []webrtc.ICEServer{startTURN(b)}
	relayed.ICETransportPolicy = webrtc.ICETransportPolicyRelay
	for _, tc := range []struct {
		name string
		cfg  Config
	}{{"direct", loopback}, {"relay", relayed}} {
		b.Run(tc.name, func(b *testing.B) {
			rt := newLynRoundTripperWith(b, tc.cfg)
			defer rt.close()
			pkt := make([]byte, 32)
			var seq uint64
			for range 100 { // warm up
				seq++
				binary.LittleEndian.PutUint64(pkt, seq)
				rt.roundTrip(b, pkt)
			}
			samples := make([]time.Duration, 0, b.N)
			lost := 0
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
			}
			b.ReportMetric(float64(lost), "lost")
			reportLatency(b, samples, time.Microsecond, "µs")
		})
	}
}
