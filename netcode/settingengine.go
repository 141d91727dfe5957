//go:build !js

package netcode

import (
	"time"

	"github.com/lynnet/lyn/internal/pionlog"
	"github.com/pion/webrtc/v4"
)

// settingEngine builds pion's SettingEngine for c (c has its defaults).
func (c Config) settingEngine() webrtc.SettingEngine {
	var se webrtc.SettingEngine
	se.LoggerFactory = pionlog.Factory{Logger: c.Logger}
	if c.NetworkTypes != nil {
		se.SetNetworkTypes(c.NetworkTypes)
	}
	if c.InterfaceFilter != nil {
		se.SetInterfaceFilter(c.InterfaceFilter)
	}
	if c.LoopbackOnly {
		se.SetIncludeLoopbackCandidate(true)
	}
	if c.MulticastDNSMode != 0 {
		se.SetICEMulticastDNSMode(c.MulticastDNSMode)
	}
	if c.Net != nil {
		se.SetNet(c.Net)
	}
	if !c.PionTimings {
		tune(&se, !c.DTLSHelloVerify)
	}
	if !c.PionTimings && c.ICETransportPolicy != webrtc.ICETransportPolicyRelay {
		se.SetRelayAcceptanceMinWait(tunedRelayAcceptanceMinWait)
	}
	// Always, PionTimings or not: reconnecting depends on noticing a cut.
	se.SetICETimeouts(c.ICEDisconnectedTimeout, iceFailedTimeout, iceKeepaliveInterval)
	// A peer's DTLS close_notify does not close the PeerConnection behind
	// the Mesh's back: the Mesh closes its links itself (Close, the engine
	// giving a peer up after its goodbye or timeout, the server's peer-left).
	// pion's close from its DTLS handler also holds the SCTP transport's
	// lock across a timed wait for the ABORT, which another goroutine's wait
	// for that lock keeps from ever ending inside a testing/synctest bubble:
	// a vnet test hung for good in .ci/run's race pass.
	se.DisableCloseByDTLS(true)
	se.SetICEMaxBindingRequests(c.maxBindingRequests())
	return se
}

// iceCheckInterval is pion's interval between connectivity checks of the
// pairs it has not given up yet (ice.defaultCheckInterval).
const iceCheckInterval = 200 * time.Millisecond

// maxBindingRequests is how many checks ICE sends to a candidate pair
// before it gives the pair up: enough to go on checking for the whole
// Config.ICERestartTimeout (pion's 7 give up after ~1.4 s). During a
// restart made while the path is still cut, the pairs would otherwise all
// fail long before the path comes back, and nothing would reconnect until
// the next restart; with this the return of the path is found within a
// check interval. Unreachable pairs of a first connect are checked that
// much longer too: ~100 bytes every 200 ms each.
func (c Config) maxBindingRequests() uint16 {
	return uint16(min(max(c.ICERestartTimeout/iceCheckInterval, 7), 1000))
}

// iceKeepaliveInterval is how often each side checks the selected pair
// with a STUN binding request (pion: 2 s), and how often pion's ICE loop
// looks at the pair's state. Any packet from the peer proves the path
// alive, but after a cut the first packet back is usually such a check's
// answer, and the state changes back to connected only at the loop's next
// turn: a path is seen back within about two intervals of its return. At
// 250 ms that is well inside Config.ICERestartAfter's default second, so
// a path back within it is not restarted needlessly (at 500 ms it often
// was, in TestVNetReconnectAfterCut). The cost: a request and the answer
// to the peer's every 250 ms, about 0.8 KB/s each way per peer with UDP/IP
// headers (pion's 2 s: 0.1 KB/s).
const iceKeepaliveInterval = 250 * time.Millisecond

// iceFailedTimeout is how long after "disconnected" pion gives a path up
// as failed (deleting its candidates), and, added to
// Config.ICEDisconnectedTimeout, how long the first checks may take before
// a connect fails. lyn restarts ICE itself after Config.ICERestartAfter,
// long before this; pion's default (25 s) is kept so that a slow first
// connect (relays, lossy paths) is never cut short.
const iceFailedTimeout = 25 * time.Second

// tunedSCTPRTOMax caps SCTP's retransmission timeout (pion: 60 s, with a
// 1 s minimum, so effectively every retransmission of the reliable channel
// waits 500 ms). After a cut, SCTP's timer has backed off; with the cap
// the control channel (and an input channel's stalled stream) resumes at
// most 500 ms after ICE is back. TestVNetReconnectAfterCut, from the
// path's return to the session's EventPeerResumed: ~0.53 s instead of
// 2.0 s after a 1.25 s cut, ~0.8 s instead of 3.3 s after a 4 s one (which
// needs an ICE restart). The price:
// on a path with a round trip over ~500 ms a reliable message may be sent
// twice, which no game playable at that latency would notice.
const tunedSCTPRTOMax = 500 * time.Millisecond

// tunedRelayAcceptanceMinWait is how long after its checks start ICE waits
// before it may nominate a relay pair when direct pairs are allowed too
// (tune's 0 stays for relay-only sessions, where every pair is relayed).
// pion never switches away from a nominated pair, and a relay pair's check
// may succeed before a direct one's that needs a hole punched first:
// TestNATMatrix saw addr-restricted ↔ symmetric relayed with no wait. One
// second covers hole punching on most real paths (a few round trips after
// the candidates are exchanged; in TestNATMatrix every direct pair still
// won with 220 ms round trips between NAT'd peers); it costs a session that
// must relay at most that much connect time. pion's default is 2 s.
const tunedRelayAcceptanceMinWait = time.Second

// tune applies lyn's connect-time tuning. Measured (TestVNetConnectRoundTrips,
// TestVNetConnectWithLoss, BenchmarkConnect, BenchmarkConnectRelay): 4.5
// instead of 7 round trips at 100 ms RTT; median ~0.8 s instead of ~3 s
// with 20 % loss; relay-only ~7 ms instead of ~2 s on loopback. The 100 ms
// DTLS timer resends each handshake flight once, needlessly, when the RTT
// is 100 ms or more (about 1.3 KB per connect; pion backs off after that).
// The settings:
//   - candidate pairs are nominated as soon as a check succeeds instead of
//     waiting for better candidate types (pion waits up to 0.5 s for srflx
//     and prflx and 1 s for relay; relay-only TURN connects went from ~2 s
//     to ~10 ms in ANCHORS);
//   - the first DTLS retransmission after 100 ms instead of 1 s;
//   - optionally no HelloVerify round trip (see Config.DTLSHelloVerify);
//   - SCTP zero checksum (RFC 9653; negotiated, DTLS already authenticates)
//     and SNAP (the SCTP INIT travels in the SDP, saving the SCTP handshake
//     round trips after DTLS);
//   - SCTP's retransmission timeout capped at 500 ms (tunedSCTPRTOMax).
func tune(se *webrtc.SettingEngine, skipHelloVerify bool) {
	se.SetHostAcceptanceMinWait(0)
	se.SetSrflxAcceptanceMinWait(0)
	se.SetPrflxAcceptanceMinWait(0)
	se.SetRelayAcceptanceMinWait(0)
	se.SetDTLSRetransmissionInterval(tunedDTLSRetransmission)
	se.SetDTLSInsecureSkipHelloVerify(skipHelloVerify)
	se.EnableSCTPZeroChecksum(true)
	se.EnableSctpSnap(true)
	se.SetSCTPRTOMax(tunedSCTPRTOMax)
}
