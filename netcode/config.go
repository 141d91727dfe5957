package netcode

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/transport/v5"
	"github.com/pion/webrtc/v4"
)

// Config configures Connect. Its zero value connects over every interface
// with host candidates only (no STUN or TURN: lyn never contacts a public
// server unless told to), uses lyn's tuned pion settings and logs nothing.
type Config struct {
	// ICEServers are the STUN and TURN servers to gather candidates from,
	// e.g. {URLs: {"turn:turn.example.com:3478?transport=udp"},
	// Username: "u", Credential: "p"}. Nil: host candidates only.
	ICEServers []webrtc.ICEServer
	// ICETransportPolicy restricts the candidates used. The zero value is
	// webrtc.ICETransportPolicyAll; webrtc.ICETransportPolicyRelay forces
	// every peer through TURN.
	ICETransportPolicy webrtc.ICETransportPolicy
	// NetworkTypes are the candidate network types. Nil: UDP over IPv4 and
	// IPv6 (pion's default).
	NetworkTypes []webrtc.NetworkType
	// InterfaceFilter keeps the network interfaces (by name) for which it
	// returns true. Nil: all interfaces.
	InterfaceFilter func(name string) bool
	// MulticastDNSMode is pion's mDNS mode. Zero: pion's default
	// (ice.MulticastDNSModeQueryOnly: resolves a browser's .local
	// candidates, publishes none).
	MulticastDNSMode ice.MulticastDNSMode
	// LoopbackOnly, for tests, keeps traffic on the interface named "lo":
	// it overrides InterfaceFilter, includes loopback candidates, uses UDP
	// over IPv4 only and disables mDNS. Do not combine it with a vnet in
	// Net: a vnet's interface is "eth0".
	LoopbackOnly bool
	// Net replaces the operating system's network (pion's
	// SettingEngine.SetNet): a vnet for simulated networks, or a wrapper
	// that counts datagrams. Nil: the real network.
	Net transport.Net
	// Logger receives lyn's and pion's logs (pion's with an attribute
	// pion=<scope>). Nil: discard.
	Logger *slog.Logger

	// AcceptPeer, if set, lets peers that were not given to Connect connect
	// to this one, at any time until Close: the first Signal from an
	// unknown PeerID for which AcceptPeer returns true
	// creates a Link to it. Such a peer offers, whatever its id, and the
	// answer's Signal.Peer tells it the id it was accepted as. Its packets
	// arrive through Mesh.Receive like any other's; when the Signaler
	// reports it gone the Link is closed and removed. AcceptPeer is called
	// from the Mesh's signal goroutine. Nil: no peer is accepted. (Either
	// way the Mesh reads its Signaler until Close: late candidates and ICE
	// restarts arrive through it.)
	AcceptPeer func(peer PeerID) bool

	// ICEDisconnectedTimeout is how long the selected ICE path may stay
	// silent before ICE calls it disconnected (ICE checks it every 250 ms,
	// so a working path is never silent that long). Zero:
	// DefaultICEDisconnectedTimeout (1 s; pion's own default is 5 s).
	ICEDisconnectedTimeout time.Duration
	// ICERestartAfter is how long a path may stay disconnected before the
	// Link restarts ICE (new credentials, candidates gathered anew, the
	// offer and answer sent through the Signaler): a path that comes back
	// sooner resumes by itself, without a restart. Zero:
	// DefaultICERestartAfter (1 s, so a restart starts about 2 s after a
	// cut). Negative: never restart; a broken path stays broken.
	ICERestartAfter time.Duration
	// ICERestartTimeout is how long one ICE restart may take before the
	// offering side starts another, with new credentials (the path may
	// still be down, or a signal was lost). Zero: DefaultICERestartTimeout
	// (5 s).
	ICERestartTimeout time.Duration

	// InputQueueLen bounds the received input-channel packets waiting for
	// Mesh.Receive; when it is full, new packets are dropped and counted.
	// Zero: 1024.
	InputQueueLen int
	// ControlQueueLen bounds the received control-channel messages waiting
	// for Mesh.Receive. When it is full a control message is dropped and
	// counted too (pion's goroutines are never blocked); that breaks the
	// channel's reliability, so a non-zero PeerStats.ControlDropped means
	// the game did not drain Receive for a long time. Zero: 1024.
	ControlQueueLen int
	// MaxInputBuffered is how many bytes may wait in pion's send buffer of
	// the unreliable input channel before SendInput drops packets with
	// ErrSendBufferFull. Zero: 64 KiB.
	MaxInputBuffered int

	// PionTimings, when true, keeps pion's stock timing settings instead of
	// lyn's tuning (see tune). It exists to measure the tuning.
	PionTimings bool
	// DTLSHelloVerify, when true, keeps DTLS's HelloVerifyRequest cookie
	// exchange. By default lyn skips it, saving one round trip: the cookie
	// protects a DTLS server against sending its large flight to a spoofed
	// source, but in WebRTC pion's ICE agent only hands non-STUN packets to
	// DTLS when they come from a remote candidate that was signaled or
	// learned through an ICE check authenticated with the session's ICE
	// password, which is the return-routability check the cookie provides.
	DTLSHelloVerify bool
}

// Default values for the zero fields of Config.
const (
	DefaultQueueLen         = 1024
	DefaultMaxInputBuffered = 64 << 10
	// tunedDTLSRetransmission replaces pion's 1 s first DTLS retransmission
	// timer: a lost handshake flight costs 100 ms instead of a second.
	tunedDTLSRetransmission = 100 * time.Millisecond

	DefaultICEDisconnectedTimeout = time.Second
	DefaultICERestartAfter        = time.Second
	DefaultICERestartTimeout      = 5 * time.Second
)

func (c Config) withDefaults() (Config, error) {
	if c.InputQueueLen < 0 || c.ControlQueueLen < 0 || c.MaxInputBuffered < 0 {
		return c, fmt.Errorf("%w: negative queue length or buffer size", ErrInvalidConfig)
	}
	if c.ICEDisconnectedTimeout < 0 || c.ICERestartTimeout < 0 {
		return c, fmt.Errorf("%w: negative ICE timeout", ErrInvalidConfig)
	}
	if c.ICEDisconnectedTimeout == 0 {
		c.ICEDisconnectedTimeout = DefaultICEDisconnectedTimeout
	}
	if c.ICERestartAfter == 0 {
		c.ICERestartAfter = DefaultICERestartAfter
	}
	if c.ICERestartTimeout == 0 {
		c.ICERestartTimeout = DefaultICERestartTimeout
	}
	if c.InputQueueLen == 0 {
		c.InputQueueLen = DefaultQueueLen
	}
	if c.ControlQueueLen == 0 {
		c.ControlQueueLen = DefaultQueueLen
	}
	if c.MaxInputBuffered == 0 {
		c.MaxInputBuffered = DefaultMaxInputBuffered
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.LoopbackOnly {
		c.InterfaceFilter = func(name string) bool { return name == "lo" }
		c.NetworkTypes = []webrtc.NetworkType{webrtc.NetworkTypeUDP4}
		c.MulticastDNSMode = ice.MulticastDNSModeDisabled
	}
	return c, nil
}
