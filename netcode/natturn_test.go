//go:build !js

package netcode

import (
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/lynnet/lyn/rollback"
	rt "github.com/lynnet/lyn/rollback/rollbacktest"
	"github.com/lynnet/lyn/signaling"
	"github.com/lynnet/lyn/signaling/relay"
	"github.com/pion/transport/v5/vnet"
	"github.com/pion/webrtc/v4"
)

// natJoinAndPlay joins one peer per kind to a room of w with policy,
// checks every link's selected pair with check, and plays frames frames.
func natJoinAndPlay(t *testing.T, w *natWorld, policy webrtc.ICETransportPolicy, frames int, check func(t *testing.T, me, them natKind, s NetStats)) {
	t.Helper()
	recs := make([]*gameRecorder, len(w.kinds))
	cfgs := make([]JoinConfig[rt.Input], len(w.kinds))
	for i := range cfgs {
		recs[i] = &gameRecorder{sums: map[rollback.Frame]uint64{}}
		cfgs[i] = w.joinConfig(i, "turn", len(w.kinds))
		cfgs[i].Session.Recorder = recs[i]
		cfgs[i].Net.ICETransportPolicy = policy
	}
	sessions, took := joinEach(t, cfgs)
	kindOf := map[PeerID]natKind{}
	for i, s := range sessions {
		kindOf[PeerID(s.LocalPlayer()+1)] = w.kinds[i]
	}
	for i, s := range sessions {
		for _, ns := range s.NetStats() {
			t.Logf("%s sees %s: %s %s → %s %s, channels open after %v", w.kinds[i], kindOf[ns.Peer],
				ns.LocalCandidateType, ns.LocalAddress, ns.RemoteCandidateType, ns.RemoteAddress, ns.Timeline.ChannelsOpen)
			check(t, w.kinds[i], kindOf[ns.Peer], ns)
		}
	}
	compared := playJoined(t, sessions, recs, frames)
	t.Logf("joined in %v (virtual), %d frames, %d checksums compared", took, frames, compared)
}

// TestNATRelayOnly: with ICETransportPolicyRelay, peers that could reach
// each other directly (one with no NAT, one behind a full cone) relay both
// ways through the TURN server the signaling server's welcome names, with
// the time-limited credentials it minted, and play.
func TestNATRelayOnly(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newNATWorld(t, []natKind{natNone, natFullCone})
		natJoinAndPlay(t, w, webrtc.ICETransportPolicyRelay, 180, func(t *testing.T, me, them natKind, s NetStats) {
			if s.LocalCandidateType != webrtc.ICECandidateTypeRelay || s.RemoteCandidateType != webrtc.ICECandidateTypeRelay {
				t.Errorf("%s ↔ %s: pair %s → %s, want relay → relay", me, them, s.LocalCandidateType, s.RemoteCandidateType)
			}
		})
		if n := w.relay.Allocations(); n < 2 {
			t.Errorf("the relay holds %d allocations, want one per peer at least", n)
		}
	})
}

// TestNATUnreachableICEServers: the welcome lists dead ICE servers first —
// a STUN server at an address where no host answers, a TURN server at the
// relay's address but on a closed port (vnet drops datagrams to both
// silently, as a firewall would) — and the working relay last. Peers that
// must relay (symmetric ↔ symmetric, and relay-only) still connect through
// the working one; the dead ones only cost their gathering timeouts, which
// do not hold up the candidates that were gathered.
func TestNATUnreachableICEServers(t *testing.T) {
	user, pass := relay.Credentials([]byte("another secret"), "p", time.Hour, time.Unix(1e9, 0))
	deadSTUN, deadTURN := "203.0.113.3:3478", fmt.Sprintf("%s:%d", natTURNIP, natTURNPort+1)
	dead := []signaling.ICEServer{
		{URLs: []string{"stun:" + deadSTUN}},
		{URLs: []string{"turn:" + deadTURN + "?transport=udp"}, Username: user, Credential: pass},
	}
	for _, tc := range []struct {
		name   string
		kinds  []natKind
		policy webrtc.ICETransportPolicy
	}{
		{"symmetric-symmetric", []natKind{natSymmetric, natSymmetric}, webrtc.ICETransportPolicyAll},
		{"relay-only", []natKind{natFullCone, natPortRestricted}, webrtc.ICETransportPolicyRelay},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				w := newNATWorld(t, tc.kinds, dead...)
				var toDead atomic.Int64
				w.wan.AddChunkFilter(func(c vnet.Chunk) bool {
					if a := c.DestinationAddr().String(); a == deadSTUN || a == deadTURN {
						toDead.Add(1)
					}
					return true
				})
				natJoinAndPlay(t, w, tc.policy, 120, func(t *testing.T, me, them natKind, s NetStats) {
					if s.LocalCandidateType != webrtc.ICECandidateTypeRelay && s.RemoteCandidateType != webrtc.ICECandidateTypeRelay {
						t.Errorf("%s ↔ %s: pair %s → %s, want a relayed one", me, them, s.LocalCandidateType, s.RemoteCandidateType)
					}
					if s.LocalCandidateType == webrtc.ICECandidateTypeRelay && !strings.HasPrefix(s.LocalAddress, natTURNIP+":") {
						t.Errorf("relayed through %s", s.LocalAddress)
					}
				})
				if toDead.Load() == 0 {
					t.Error("no datagram went to the dead servers: they were not tried")
				}
				t.Logf("%d datagrams sent to the dead servers", toDead.Load())
			})
		})
	}
}
