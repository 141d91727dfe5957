package netcode

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/lynnet/lyn/rollback"
	"github.com/pion/webrtc/v4"
)

// Receive queue slots start with room for packets this big (128 KiB and
// 64 KiB for the default queue lengths); bigger packets grow their slot once.
const (
	inputSlotBytes   = 128
	controlSlotBytes = 64
)

// PeerID identifies a peer. It is rollback's PeerID, so a Mesh can carry a
// rollback session's messages without translation.
type PeerID = rollback.PeerID

// Mesh is this peer's set of Links, one per remote peer, and the bounded
// queue of the packets they received. Receive must be called from one
// goroutine (the game's); everything else is safe for concurrent use.
type Mesh struct {
	self PeerID
	cfg  Config
	log  *slog.Logger
	sig  Signaler
	api  *webrtc.API

	// links and order change after Connect only when Config.AcceptPeer
	// lets a peer in or a Signaler reports one gone.
	linksMu sync.RWMutex
	links   map[PeerID]*Link
	order   []*Link // links sorted by peer

	loopDone chan struct{} // closed when the signal loop has returned
	stopLoop context.CancelFunc

	input, control *packetQueue
	arrived        chan struct{} // one coalesced token per batch of arrivals

	ctx       context.Context // canceled by Close; bounds candidate sends
	cancel    context.CancelFunc
	closed    atomic.Bool
	closeOnce sync.Once
	closeErr  error

	bgMu   sync.Mutex     // orders enter against Close
	bg     sync.WaitGroup // restarts and restart timers running
	sigErr atomic.Pointer[error]
	errMu  sync.Mutex
	errs   []PeerError
}

// Connect connects this peer (self) to every peer in peers through sig and
// returns once both data channels to every peer are open. The peer with
// the lower PeerID of each pair sends the offer; candidates trickle through
// sig. peers may contain self, which is skipped.
//
// The Mesh reads sig until Close: late candidates, ICE restarts (see
// Link.Restart) and, with Config.AcceptPeer, peers arriving later. If sig's
// Recv fails after Connect, the game goes on; SignalingErr says so, and a
// restart that would need sig is reported as ErrSignalingGone. If ctx ends
// or a peer connection fails first, Connect closes what it opened and
// returns a *ConnectError naming each peer that did not connect.
func Connect(ctx context.Context, self PeerID, peers []PeerID, sig Signaler, cfg Config) (*Mesh, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if sig == nil {
		return nil, fmt.Errorf("%w: nil Signaler", ErrInvalidConfig)
	}
	m := &Mesh{
		self:     self,
		cfg:      cfg,
		log:      cfg.Logger.With("self", self),
		sig:      sig,
		links:    make(map[PeerID]*Link, len(peers)),
		input:    newPacketQueue(cfg.InputQueueLen, inputSlotBytes),
		control:  newPacketQueue(cfg.ControlQueueLen, controlSlotBytes),
		arrived:  make(chan struct{}, 1),
		loopDone: make(chan struct{}),
	}
	m.ctx, m.cancel = context.WithCancel(context.Background())
	m.api = webrtc.NewAPI(webrtc.WithSettingEngine(cfg.settingEngine()))
	api := m.api
	for _, p := range peers {
		if p == self {
			continue
		}
		if _, dup := m.links[p]; dup {
			close(m.loopDone) // no loop to wait for
			m.Close()
			return nil, fmt.Errorf("%w: peer %d listed twice", ErrInvalidConfig, p)
		}
		l, err := m.newLink(api, p, m.self < p)
		if err != nil {
			close(m.loopDone)
			m.Close()
			return nil, err
		}
		m.links[p] = l
		m.order = append(m.order, l)
	}
	slices.SortFunc(m.order, func(a, b *Link) int { return int(a.peer) - int(b.peer) })

	// The signal loop runs on m.ctx (ended by Close), until Close; with
	// AcceptPeer it may add links meanwhile: Connect waits only for the
	// ones it made.
	initial := slices.Clone(m.order)
	var loopCtx context.Context
	loopCtx, m.stopLoop = context.WithCancel(m.ctx)
	loopErr := make(chan error, 1)
	go func() {
		defer close(m.loopDone)
		if err := m.signalLoop(loopCtx); err != nil {
			m.log.Warn("netcode: signal loop ended; no more signals are read", "err", err)
			gone := fmt.Errorf("%w: %w", ErrSignalingGone, err)
			m.sigErr.Store(&gone)
			loopErr <- err
		}
	}()
	err = m.offerAndWait(ctx, initial, loopErr)
	if err != nil {
		m.stopLoop()
		<-m.loopDone
	}
	if err != nil {
		m.Close()
		return nil, err
	}
	return m, nil
}

func (m *Mesh) offerAndWait(ctx context.Context, links []*Link, loopErr <-chan error) error {
	connectErr := func(cause error) error {
		e := &ConnectError{Self: m.self, Cause: cause}
		for _, l := range links {
			select {
			case <-l.opened:
			default:
				e.Failed = append(e.Failed, l.failure())
			}
		}
		return e
	}
	for _, l := range links {
		if l.offerer {
			if err := l.offer(ctx); err != nil {
				l.fail(err)
				return connectErr(err)
			}
		}
	}
	for _, l := range links {
		select {
		case <-l.opened:
		case <-l.failed:
			return connectErr(l.failErr)
		case err := <-loopErr:
			return connectErr(err)
		case <-ctx.Done():
			return connectErr(ctx.Err())
		}
	}
	return nil
}

// signalLoop dispatches received signals to their links until ctx ends.
func (m *Mesh) signalLoop(ctx context.Context) error {
	for {
		from, s, err := m.sig.Recv(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("%w: receive: %w", ErrSignaling, err)
		}
		if s.Kind == signalGone {
			m.peerLeft(from)
			continue
		}
		l := m.Link(from)
		if l == nil {
			if l = m.accept(from); l == nil {
				m.log.Debug("netcode: signal from unknown peer", "peer", from, "kind", s.Kind)
				continue
			}
		}
		if l.disconnected.Load() {
			m.log.Debug("netcode: ignoring a signal from a disconnected peer", "peer", from, "kind", s.Kind)
			continue
		}
		if err := l.handleSignal(ctx, s); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			m.log.Warn("netcode: bad signal", "peer", from, "kind", s.Kind, "err", err)
			l.fail(err)
		}
	}
}

// accept creates a Link to a peer not given to Connect if Config.AcceptPeer
// lets it in. The accepted peer offers. Called from the signal loop only.
func (m *Mesh) accept(peer PeerID) *Link {
	if m.cfg.AcceptPeer == nil || peer == m.self || !m.cfg.AcceptPeer(peer) {
		return nil
	}
	l, err := m.newLink(m.api, peer, false)
	if err != nil {
		m.log.Warn("netcode: cannot accept peer", "peer", peer, "err", err)
		return nil
	}
	l.accepted = true
	m.linksMu.Lock()
	if m.closed.Load() {
		m.linksMu.Unlock()
		_ = l.pc.Close()
		return nil
	}
	m.links[peer] = l
	i, _ := slices.BinarySearchFunc(m.order, peer, func(l *Link, p PeerID) int { return int(l.peer) - int(p) })
	m.order = slices.Insert(m.order, i, l)
	m.linksMu.Unlock()
	m.log.Debug("netcode: accepting peer", "peer", peer)
	return l
}

// peerLeft handles a peer that left (its Signaler said so). The Link to
// an accepted peer is closed and forgotten, so that its PeerID can be
// given to another. The Link to a peer given to Connect stays (its path
// may still carry the peer's last packets, and the game's session decides
// when it is gone), but is never restarted again: the peer can no longer
// be signaled. Called from the signal loop.
func (m *Mesh) peerLeft(peer PeerID) {
	m.linksMu.Lock()
	l := m.links[peer]
	if l == nil || m.closed.Load() {
		m.linksMu.Unlock()
		return
	}
	if !l.accepted {
		m.linksMu.Unlock()
		l.stopRestarting()
		m.log.Info("netcode: peer left the room; its link will not be restarted", "peer", peer)
		return
	}
	delete(m.links, peer)
	m.order = slices.DeleteFunc(m.order, func(o *Link) bool { return o == l })
	m.linksMu.Unlock()
	l.stopRestarting()
	m.log.Debug("netcode: accepted peer left", "peer", peer)
	if err := closePeerConnection(l.pc); err != nil {
		m.log.Debug("netcode: closing a departed peer", "peer", peer, "err", err)
	}
}

// Self returns this peer's id.
func (m *Mesh) Self() PeerID { return m.self }

// Links returns the links to the remote peers, sorted by PeerID.
func (m *Mesh) Links() []*Link {
	m.linksMu.RLock()
	defer m.linksMu.RUnlock()
	return slices.Clone(m.order)
}

// Link returns the link to peer, or nil if peer is not in the Mesh.
func (m *Mesh) Link(peer PeerID) *Link {
	m.linksMu.RLock()
	l := m.links[peer]
	m.linksMu.RUnlock()
	return l
}

// Send sends b to peer on channel ch (see Link.SendInput and
// Link.SendControl). It does not block.
func (m *Mesh) Send(to PeerID, ch Channel, b []byte) error {
	l := m.Link(to)
	if l == nil {
		return fmt.Errorf("%w: %d", ErrUnknownPeer, to)
	}
	switch ch {
	case ChannelInput:
		return l.SendInput(b)
	case ChannelControl:
		return l.SendControl(b)
	}
	return fmt.Errorf("%w: channel %d", ErrInvalidConfig, ch)
}

// Receive returns the next received packet, control messages first, or
// ok == false when none is waiting. It never blocks. data is valid until
// the next call to Receive; Receive must not be called concurrently.
func (m *Mesh) Receive() (from PeerID, ch Channel, data []byte, ok bool) {
	m.input.release()
	if from, data, ok = m.control.pop(); ok {
		return from, ChannelControl, data, true
	}
	if from, data, ok = m.input.pop(); ok {
		return from, ChannelInput, data, true
	}
	return 0, 0, nil, false
}

// Arrived returns a channel that receives a value after packets have been
// queued for Receive. Values are coalesced (one may stand for many
// packets, and one may remain after Receive drained them), so after each
// value call Receive until it returns ok == false. A game that polls
// Receive once per frame does not need it; a goroutine that wants to wait
// for packets does.
func (m *Mesh) Arrived() <-chan struct{} { return m.arrived }

// Stats returns every link's statistics, sorted by PeerID.
func (m *Mesh) Stats() []PeerStats {
	links := m.Links()
	s := make([]PeerStats, len(links))
	for i, l := range links {
		s[i] = l.Stats()
	}
	return s
}

// Close closes every peer connection and waits for pion's goroutines to
// finish; sends fail with ErrClosed afterwards. It is safe to call more
// than once.
func (m *Mesh) Close() error {
	m.closeOnce.Do(func() {
		m.linksMu.Lock()
		m.bgMu.Lock()
		m.closed.Store(true) // under linksMu: no Link is accepted after this; under bgMu: no restart starts
		m.bgMu.Unlock()
		m.linksMu.Unlock()
		m.cancel()
		<-m.loopDone // no Link is accepted or removed any more
		for _, l := range m.Links() {
			l.mu.Lock()
			if l.restartTimer != nil {
				l.restartTimer.Stop()
			}
			l.mu.Unlock()
		}
		m.bg.Wait()
		var errs []error
		for _, l := range m.Links() {
			if err := closePeerConnection(l.pc); err != nil {
				errs = append(errs, fmt.Errorf("peer %d: %w", l.peer, err))
			}
		}
		m.closeErr = errors.Join(errs...)
	})
	return m.closeErr
}
