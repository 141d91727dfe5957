package netcode

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/webrtc/v4"
)

// Channel names one of the two data channels every pair of peers shares.
// Its value is the channel's SCTP stream id.
type Channel uint8

const (
	// ChannelInput is unordered and unreliable (maxRetransmits 0): inputs,
	// acks, pings, checksums — everything that is repeated until acked.
	ChannelInput Channel = 0
	// ChannelControl is reliable and ordered: hello, snapshots, notices.
	ChannelControl Channel = 1
)

func (c Channel) String() string {
	switch c {
	case ChannelInput:
		return "input"
	case ChannelControl:
		return "control"
	}
	return "Channel(" + strconv.Itoa(int(c)) + ")"
}

// maxPendingCandidates bounds the remote candidates held until the remote
// description arrives; more are dropped (a peer has a handful).
const maxPendingCandidates = 64

// Link is the connection to one remote peer: a pion PeerConnection with
// the two pre-negotiated data channels. Its methods are safe for
// concurrent use.
type Link struct {
	mesh     *Mesh
	peer     PeerID
	offerer  bool
	accepted bool // let in by Config.AcceptPeer after Connect's list
	// assigned is the PeerID the remote peer gave this side in its answer
	// (a Mesh that accepted this one says under which id); 0 if none.
	assigned atomic.Int64
	pc       *webrtc.PeerConnection
	input    atomic.Pointer[webrtc.DataChannel] // set once the channel exists
	control  *webrtc.DataChannel

	inputOpen, controlOpen atomic.Bool
	opened                 chan struct{} // closed once both channels opened
	openOnce               sync.Once
	failed                 chan struct{} // closed on the first failure
	failOnce               sync.Once
	failErr                error // set before failed is closed

	bytesOut, packetsOut, bytesIn, packetsIn atomic.Uint64
	inputDropped, controlDropped, sendDrop   atomic.Uint64

	mu       sync.Mutex
	timeline ConnectTimeline
	// Path and restart state, under mu. down is when ICE last reported
	// the path disconnected (zero while it works); restartStart when the
	// running ICE restart began (zero if none); restartTimer fires
	// restartDue (after Config.ICERestartAfter, then every
	// Config.ICERestartTimeout while a restart has not reconnected).
	down, restartStart      time.Time
	restartTimer            *time.Timer
	interruptions, restarts uint64
	lastRestart             time.Duration

	// gen numbers the ICE negotiation this side has made (offerer) or
	// answered (answerer): 0 for the first, n after n restarts. Signals
	// carry it as Signal.Restart.
	gen atomic.Uint32
	// left is set when the Signaler said the peer left, disconnected when
	// the game's session gave up on it (Disconnect): no restart is made
	// for it any more. A disconnected Link is closed, too.
	left, disconnected atomic.Bool
	// restartAttempts counts the restart offers and requests sent (under mu).
	restartAttempts uint64
	// lastPath keeps the path's stats (transportStats) from just before
	// Disconnect closed the PeerConnection, which forgets them.
	lastPath atomic.Pointer[PeerStats]
	// pcMu serializes the offerer's description changes: a restart's
	// CreateOffer and SetLocalDescription, and the application of an
	// answer, which must belong to the newest offer.
	pcMu sync.Mutex

	// Touched only by the Mesh's signal loop (and by Connect before it).
	remoteSet         bool
	remoteGen         uint32 // Signal.Restart of the applied remote description
	pendingCandidates []heldCandidate
}

// heldCandidate is a remote candidate that arrived before the offer or
// answer of its negotiation (gen).
type heldCandidate struct {
	gen  uint32
	init webrtc.ICECandidateInit
}

// ConnectTimeline says where a peer's connect time went. Durations are
// from Start; zero means the step has not happened.
type ConnectTimeline struct {
	// Start is when this side created the offer (offerer) or received it.
	Start time.Time
	// RemoteDescription: the answer (offerer) or the offer was applied.
	RemoteDescription time.Duration
	// ICEConnected: a candidate pair succeeded its connectivity check.
	ICEConnected time.Duration
	// DTLSConnected: the DTLS handshake finished (peer connection state
	// "connected").
	DTLSConnected time.Duration
	// ChannelsOpen: both data channels opened (the SCTP association is up).
	ChannelsOpen time.Duration
}

// PeerStats describes one Link.
type PeerStats struct {
	Peer  PeerID
	State webrtc.PeerConnectionState
	// LocalCandidateType and RemoteCandidateType are the types (host,
	// srflx, prflx, relay) of the selected candidate pair, zero
	// (webrtc.ICECandidateTypeUnknown) before ICE selects one. Once the
	// Link is disconnected (Link.Disconnect) they, the addresses and the
	// round trips are the last ones seen before it was closed.
	LocalCandidateType, RemoteCandidateType webrtc.ICECandidateType
	// LocalAddress and RemoteAddress are the selected pair's "ip:port".
	LocalAddress, RemoteAddress string
	// ICERoundTrip is the latest round trip of an ICE connectivity check
	// or keepalive on the selected pair (zero until one was measured).
	ICERoundTrip time.Duration
	// SCTPRoundTrip is the SCTP association's smoothed round trip time
	// (zero until SCTP has timed an acknowledged packet).
	SCTPRoundTrip time.Duration
	// Message counts and payload bytes on both channels, as seen by lyn
	// (headers of DTLS, SCTP, UDP and IP are not included). Received counts
	// include the messages dropped because the queue was full.
	BytesSent, BytesReceived, PacketsSent, PacketsReceived uint64
	// InputDropped and ControlDropped count received messages dropped
	// because Mesh.Receive was not drained fast enough.
	InputDropped, ControlDropped uint64
	// SendDropped counts SendInput calls refused with ErrSendBufferFull.
	SendDropped uint64
	Timeline    ConnectTimeline
	// Interruptions counts the times, after Connect, the path went silent
	// for Config.ICEDisconnectedTimeout (ICE "disconnected").
	Interruptions uint64
	// Restarts counts the ICE restarts that reconnected the pair.
	Restarts uint64
	// LastRestart is how long the last successful ICE restart took, from
	// its start (the offer made, or received) to ICE connected again.
	LastRestart time.Duration
	// Restarting is true while an ICE restart has not reconnected yet.
	Restarting bool
	// RestartAttempts counts the ICE restart negotiations this side began
	// (offers made or repeated, or requests to the offering side), whether
	// they reconnected or not.
	RestartAttempts uint64
	// Disconnected is true once the Link was ended for good (Disconnect):
	// the session gave up on the peer.
	Disconnected bool
}

func (m *Mesh) newLink(api *webrtc.API, peer PeerID, offerer bool) (*Link, error) {
	pc, err := api.NewPeerConnection(webrtc.Configuration{
		ICEServers:         m.cfg.ICEServers,
		ICETransportPolicy: m.cfg.ICETransportPolicy,
	})
	if err != nil {
		return nil, fmt.Errorf("netcode: peer %d: new peer connection: %w", peer, err)
	}
	l := &Link{
		mesh:    m,
		peer:    peer,
		offerer: offerer,
		pc:      pc,
		opened:  make(chan struct{}),
		failed:  make(chan struct{}),
	}
	// control is pre-negotiated (no in-band open). input is opened in band
	// by the offerer: pion applies ordered:false / maxRetransmits:0 to the
	// SCTP stream only for channels opened with DCEP, and a negotiated one
	// silently stays ordered and reliable, so one lost packet would delay
	// every input behind it by a retransmission. Inputs still flow at once:
	// the offerer may send as soon as it has dialed (the OPEN precedes them
	// on the stream; until the ACK they travel reliably), and the answerer
	// gets the channel when the OPEN arrives.
	no, yes := false, true
	var zero, one uint16 = 0, 1
	l.control, err = pc.CreateDataChannel("control", &webrtc.DataChannelInit{
		Ordered: &yes, Negotiated: &yes, ID: &one,
	})
	if err == nil && offerer {
		var input *webrtc.DataChannel
		input, err = pc.CreateDataChannel(inputLabel, &webrtc.DataChannelInit{Ordered: &no, MaxRetransmits: &zero})
		if err == nil {
			l.setInput(input, true)
		}
	}
	if err != nil {
		_ = pc.Close()
		return nil, fmt.Errorf("netcode: peer %d: create data channel: %w", peer, err)
	}
	if !offerer {
		pc.OnDataChannel(func(dc *webrtc.DataChannel) {
			if dc.Label() == inputLabel && l.input.Load() == nil {
				l.setInput(dc, false)
			}
		})
	}
	l.control.OnOpen(func() { l.controlOpen.Store(true); l.checkOpen() })
	l.control.OnClose(func() { l.controlOpen.Store(false) })
	l.control.OnMessage(func(msg webrtc.DataChannelMessage) { l.deliver(ChannelControl, msg.Data) })

	pc.OnICECandidate(func(c *webrtc.ICECandidate) {
		if c == nil {
			return // gathering finished
		}
		init := c.ToJSON()
		// gen is already the new negotiation's when a restart gathers.
		if err := m.sig.Send(m.ctx, peer, Signal{Kind: SignalCandidate, Candidate: &init, Restart: l.gen.Load()}); err != nil {
			m.log.Debug("netcode: sending candidate failed", "peer", peer, "err", err)
		}
	})
	pc.OnICEConnectionStateChange(func(s webrtc.ICEConnectionState) {
		m.log.Debug("netcode: ICE state", "peer", peer, "state", s)
		switch s {
		case webrtc.ICEConnectionStateConnected, webrtc.ICEConnectionStateCompleted:
			l.mark(&l.timeline.ICEConnected)
			l.pathUp()
		case webrtc.ICEConnectionStateDisconnected, webrtc.ICEConnectionStateFailed:
			l.pathDown(s)
		}
	})
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		m.log.Debug("netcode: peer connection state", "peer", peer, "state", s)
		switch s {
		case webrtc.PeerConnectionStateConnected:
			l.mark(&l.timeline.DTLSConnected)
		case webrtc.PeerConnectionStateFailed:
			l.fail(errors.New("peer connection failed"))
		}
	})
	return l, nil
}

// inputLabel names the unreliable channel; PROTOCOL.md describes it.
const inputLabel = "input"

// setInput wires up the input channel once it exists (at once on the
// offerer, when the OPEN arrives on the answerer).
func (l *Link) setInput(dc *webrtc.DataChannel, dialed bool) {
	dc.OnMessage(func(msg webrtc.DataChannelMessage) { l.deliver(ChannelInput, msg.Data) })
	dc.OnClose(func() { l.inputOpen.Store(false) })
	usable := func() { l.inputOpen.Store(true); l.checkOpen() }
	if dialed {
		onDialed(dc, usable)
	} else {
		dc.OnOpen(usable)
	}
	l.input.Store(dc)
}

// mark records the first time a timeline step happens, relative to Start.
// step points into l.timeline and is only touched under l.mu.
func (l *Link) mark(step *time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.timeline.Start.IsZero() || *step != 0 {
		return
	}
	*step = max(time.Since(l.timeline.Start), 1) // never 0: 0 means "not yet"
}

func (l *Link) start() {
	l.mu.Lock()
	if l.timeline.Start.IsZero() {
		l.timeline.Start = time.Now()
	}
	l.mu.Unlock()
}

func (l *Link) checkOpen() {
	if l.inputOpen.Load() && l.controlOpen.Load() {
		l.mark(&l.timeline.ChannelsOpen)
		l.openOnce.Do(func() { close(l.opened) })
	}
}

func (l *Link) fail(err error) {
	l.failOnce.Do(func() {
		l.failErr = err
		close(l.failed)
	})
}

// deliver runs on pion's goroutines: count, copy into the queue, or drop.
func (l *Link) deliver(ch Channel, data []byte) {
	l.packetsIn.Add(1)
	l.bytesIn.Add(uint64(len(data)))
	q, dropped := l.mesh.input, &l.inputDropped
	if ch == ChannelControl {
		q, dropped = l.mesh.control, &l.controlDropped
	}
	if !q.push(l.peer, data) {
		if dropped.Add(1) == 1 && ch == ChannelControl {
			l.mesh.log.Error("netcode: control queue full, dropping reliable messages", "peer", l.peer)
		}
		return
	}
	select {
	case l.mesh.arrived <- struct{}{}:
	default:
	}
}

// Peer returns the remote peer's id.
func (l *Link) Peer() PeerID { return l.peer }

// AssignedID returns the PeerID the remote peer accepted this one as (the
// Peer field of its answer, see Config.AcceptPeer), or 0 if it did not say.
func (l *Link) AssignedID() PeerID { return PeerID(l.assigned.Load()) }

// SendInput sends b on the unreliable, unordered input channel without
// blocking. pion copies b before returning, so the caller may reuse it.
// When pion already buffers Config.MaxInputBuffered bytes for this peer
// the packet is dropped and ErrSendBufferFull returned (unwrapped, so the
// refusal does not allocate).
func (l *Link) SendInput(b []byte) error {
	if l.mesh.closed.Load() || l.disconnected.Load() {
		return ErrClosed
	}
	if !l.inputOpen.Load() {
		return fmt.Errorf("%w: input channel to peer %d", ErrNotOpen, l.peer)
	}
	input := l.input.Load()
	if input == nil || !l.inputOpen.Load() {
		return ErrNotOpen
	}
	if input.BufferedAmount() > uint64(l.mesh.cfg.MaxInputBuffered) {
		l.sendDrop.Add(1)
		return ErrSendBufferFull
	}
	return l.send(input, ChannelInput, b)
}

// SendControl sends b on the reliable, ordered control channel without
// blocking: pion copies b and buffers it until SCTP's congestion and flow
// control let it out (lyn sets no limit on that buffer; control traffic is
// small and rare).
func (l *Link) SendControl(b []byte) error {
	if l.mesh.closed.Load() || l.disconnected.Load() {
		return ErrClosed
	}
	if !l.controlOpen.Load() {
		return fmt.Errorf("%w: control channel to peer %d", ErrNotOpen, l.peer)
	}
	return l.send(l.control, ChannelControl, b)
}

func (l *Link) send(dc *webrtc.DataChannel, ch Channel, b []byte) error {
	if err := dc.Send(b); err != nil {
		return fmt.Errorf("netcode: send %s to peer %d: %w", ch, l.peer, err)
	}
	l.packetsOut.Add(1)
	l.bytesOut.Add(uint64(len(b)))
	return nil
}

// Stats returns the link's current statistics. It asks pion for the
// selected candidate pair, so it allocates: call it for an overlay, not
// per packet.
func (l *Link) Stats() PeerStats {
	s := PeerStats{
		Peer:            l.peer,
		State:           l.pc.ConnectionState(),
		BytesSent:       l.bytesOut.Load(),
		BytesReceived:   l.bytesIn.Load(),
		PacketsSent:     l.packetsOut.Load(),
		PacketsReceived: l.packetsIn.Load(),
		InputDropped:    l.inputDropped.Load(),
		ControlDropped:  l.controlDropped.Load(),
		SendDropped:     l.sendDrop.Load(),
	}
	l.mu.Lock()
	s.Timeline = l.timeline
	s.Interruptions, s.Restarts, s.LastRestart = l.interruptions, l.restarts, l.lastRestart
	s.Restarting = !l.restartStart.IsZero()
	s.RestartAttempts = l.restartAttempts
	l.mu.Unlock()
	s.Disconnected = l.disconnected.Load()
	if p := l.lastPath.Load(); p != nil {
		s.LocalCandidateType, s.RemoteCandidateType = p.LocalCandidateType, p.RemoteCandidateType
		s.LocalAddress, s.RemoteAddress = p.LocalAddress, p.RemoteAddress
		s.ICERoundTrip, s.SCTPRoundTrip = p.ICERoundTrip, p.SCTPRoundTrip
	} else {
		l.transportStats(&s)
	}
	return s
}

// offer creates and sends the offer (called by Connect on the offerer).
func (l *Link) offer(ctx context.Context) error {
	l.start()
	offer, err := l.pc.CreateOffer(nil)
	if err != nil {
		return fmt.Errorf("netcode: peer %d: create offer: %w", l.peer, err)
	}
	if err := l.pc.SetLocalDescription(offer); err != nil {
		return fmt.Errorf("netcode: peer %d: set local offer: %w", l.peer, err)
	}
	if err := l.mesh.sig.Send(ctx, l.peer, Signal{Kind: SignalOffer, SDP: offer.SDP}); err != nil {
		return fmt.Errorf("%w: send offer to peer %d: %w", ErrSignaling, l.peer, err)
	}
	return nil
}

// handleSignal applies one signal from the remote peer. Errors are the
// remote peer's fault (or pion's), never a reason to panic. Called from the
// signal loop only.
func (l *Link) handleSignal(ctx context.Context, s Signal) error {
	switch s.Kind {
	case SignalOffer:
		if l.offerer {
			return fmt.Errorf("unexpected offer: this side (%d) offers to %d", l.mesh.self, l.peer)
		}
		if l.remoteSet && s.Restart < l.remoteGen {
			l.mesh.log.Debug("netcode: ignoring an overtaken offer", "peer", l.peer, "restart", s.Restart)
			return nil
		}
		if l.remoteSet && s.Restart == l.remoteGen {
			// Offered again: our answer may have been lost. Repeat it.
			cur := l.pc.CurrentLocalDescription()
			if cur == nil || cur.Type != webrtc.SDPTypeAnswer {
				return nil
			}
			l.mesh.log.Debug("netcode: repeated offer, answering again", "peer", l.peer, "restart", s.Restart)
			return l.answer(ctx, cur.SDP, s.Restart)
		}
		restart := l.remoteSet
		l.start()
		// The candidates pion gathers once the offer is applied belong to
		// this negotiation: number them before it starts gathering.
		prevGen := l.gen.Load()
		l.gen.Store(s.Restart)
		if restart {
			l.restartBegan()
			l.mesh.log.Info("netcode: peer restarts ICE", "peer", l.peer, "restart", s.Restart)
		}
		if err := l.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: s.SDP}); err != nil {
			// Not applied: later requests must name the negotiation in force.
			l.gen.Store(prevGen)
			return fmt.Errorf("set remote offer: %w", err)
		}
		l.remoteApplied(s.Restart)
		answer, err := l.pc.CreateAnswer(nil)
		if err != nil {
			return fmt.Errorf("create answer: %w", err)
		}
		if err := l.pc.SetLocalDescription(answer); err != nil {
			return fmt.Errorf("set local answer: %w", err)
		}
		return l.answer(ctx, answer.SDP, s.Restart)
	case SignalAnswer:
		if !l.offerer {
			return fmt.Errorf("unexpected answer: peer %d offers to this side (%d)", l.peer, l.mesh.self)
		}
		l.pcMu.Lock()
		defer l.pcMu.Unlock()
		if s.Restart != l.gen.Load() || (l.remoteSet && s.Restart <= l.remoteGen) {
			l.mesh.log.Debug("netcode: ignoring repeated or overtaken answer", "peer", l.peer, "restart", s.Restart)
			return nil
		}
		if s.Peer > 0 {
			// Before the answer is applied: known once the channels open.
			l.assigned.Store(int64(s.Peer))
		}
		if err := l.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: s.SDP}); err != nil {
			return fmt.Errorf("set remote answer: %w", err)
		}
		l.remoteApplied(s.Restart)
	case SignalCandidate:
		if s.Candidate == nil || s.Candidate.Candidate == "" {
			return nil // end of candidates: nothing to do, pion needs no marker
		}
		if !l.remoteSet || s.Restart > l.remoteGen {
			if len(l.pendingCandidates) < maxPendingCandidates {
				l.pendingCandidates = append(l.pendingCandidates, heldCandidate{gen: s.Restart, init: *s.Candidate})
			}
			return nil
		}
		if s.Restart < l.remoteGen {
			return nil // of a negotiation a restart replaced
		}
		if err := l.pc.AddICECandidate(*s.Candidate); err != nil {
			// One bad candidate is not fatal: others may work.
			l.mesh.log.Debug("netcode: ignoring remote candidate", "peer", l.peer, "err", err)
		}
	case SignalRestart:
		if !l.offerer {
			l.mesh.log.Debug("netcode: ignoring a restart request to the answering side", "peer", l.peer)
			return nil
		}
		l.mesh.goBackground(func() { l.requestRestart("the peer asked", int64(s.Restart)) })
	default:
		l.mesh.log.Debug("netcode: ignoring signal of unknown kind", "peer", l.peer, "kind", s.Kind)
	}
	return nil
}

// answer sends the answer of negotiation gen.
func (l *Link) answer(ctx context.Context, sdp string, gen uint32) error {
	reply := Signal{Kind: SignalAnswer, SDP: sdp, Restart: gen}
	if l.accepted {
		reply.Peer = l.peer // tell the newcomer the id it was accepted as
	}
	if err := l.mesh.sig.Send(ctx, l.peer, reply); err != nil {
		return fmt.Errorf("%w: send answer: %w", ErrSignaling, err)
	}
	return nil
}

// remoteApplied records that the remote description of negotiation gen was
// applied and adds the candidates held for it; older ones are dropped.
func (l *Link) remoteApplied(gen uint32) {
	l.remoteSet, l.remoteGen = true, gen
	l.mark(&l.timeline.RemoteDescription)
	keep := l.pendingCandidates[:0]
	for _, c := range l.pendingCandidates {
		switch {
		case c.gen == gen:
			if err := l.pc.AddICECandidate(c.init); err != nil {
				l.mesh.log.Debug("netcode: ignoring remote candidate", "peer", l.peer, "err", err)
			}
		case c.gen > gen:
			keep = append(keep, c)
		}
	}
	clear(l.pendingCandidates[len(keep):])
	l.pendingCandidates = keep
}

func (l *Link) failure() PeerFailure {
	f := PeerFailure{
		Peer:        l.peer,
		State:       l.pc.ConnectionState(),
		InputOpen:   l.inputOpen.Load(),
		ControlOpen: l.controlOpen.Load(),
	}
	select {
	case <-l.failed:
		f.Err = l.failErr
	default:
	}
	return f
}
