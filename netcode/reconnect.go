package netcode

import (
	"context"
	"fmt"
	"time"

	"github.com/pion/webrtc/v4"
)

// Reconnecting. ICE checks the selected path every 250 ms; when it has been
// silent for Config.ICEDisconnectedTimeout, pathDown records an
// interruption and arms a timer. A path that comes back before
// Config.ICERestartAfter resumes by itself (ICE's checks find it again;
// SCTP retransmits what was lost). Otherwise restartDue restarts ICE: the
// offering side of the pair makes an offer with new ICE credentials
// (Signal.Restart numbers it), the answering side asks it to (SignalRestart),
// and both gather candidates anew, so a peer whose address changed is
// found at its new one. DTLS and SCTP live on over the new path: the data
// channels stay open, and nothing sent on the control channel is lost.
// Until a restart reconnects, it is repeated every Config.ICERestartTimeout.
//
// The negotiation goes through the Signaler, not through the control
// channel: pion drops the selected candidate pair the moment the offer is
// made (and the answering side when it applies it), so the path being
// replaced cannot carry the answer. If the Signaler has failed (the
// signaling server is gone), a restart is not attempted (it would drop a
// path that might still come back by itself) and ErrSignalingGone is
// reported instead.
//
// A peer the game's session has given up on (past its DisconnectTimeout)
// is never restarted again: the session ignores it from then on, so
// Join's Session ends its Link (Disconnect), which closes the
// PeerConnection. A peer the signaling server says left is not restarted
// either (there is nobody to signal), but its Link stays open for the
// session to give up on.

// pathUp runs when ICE reports the path connected: an interruption or a
// restart is over.
func (l *Link) pathUp() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.restartTimer != nil {
		l.restartTimer.Stop()
		l.restartTimer = nil
	}
	if !l.restartStart.IsZero() {
		l.restarts++
		l.lastRestart = time.Since(l.restartStart)
		l.restartStart = time.Time{}
		l.mesh.log.Info("netcode: ICE restart reconnected", "peer", l.peer, "restart", l.gen.Load(), "took", l.lastRestart)
	}
	if !l.down.IsZero() {
		l.mesh.log.Info("netcode: path back", "peer", l.peer, "down", time.Since(l.down))
		l.down = time.Time{}
	}
}

// pathDown runs when ICE reports the path disconnected or failed. Before
// the channels first opened Connect is in charge (and gives up instead).
func (l *Link) pathDown(s webrtc.ICEConnectionState) {
	select {
	case <-l.opened:
	default:
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.down.IsZero() {
		l.down = time.Now()
		l.interruptions++
		l.mesh.log.Warn("netcode: path interrupted", "peer", l.peer, "ice", s)
	}
	if l.restartTimer == nil && l.restartStart.IsZero() && l.mesh.cfg.ICERestartAfter > 0 && !l.ended() {
		l.restartTimer = time.AfterFunc(l.mesh.cfg.ICERestartAfter, l.restartDue)
	}
}

// restartBegan marks the start of a restart (for PeerStats) if none runs.
func (l *Link) restartBegan() {
	l.mu.Lock()
	if l.restartStart.IsZero() && !l.disconnected.Load() {
		l.restartStart = time.Now()
	}
	l.mu.Unlock()
}

// restartDue runs on a timer: the path has been down for
// Config.ICERestartAfter, or a restart has not reconnected within
// Config.ICERestartTimeout.
func (l *Link) restartDue() {
	if l.ended() || !l.mesh.enter() {
		return
	}
	defer l.mesh.leave()
	l.mu.Lock()
	l.restartTimer = nil
	fine := l.down.IsZero() && l.restartStart.IsZero()
	l.mu.Unlock()
	if !fine {
		l.requestRestart("path down", anyGen)
	}
}

// Restart restarts ICE with the peer now, as the Link does by itself when
// the path has been down for Config.ICERestartAfter: for a game that knows
// its network changed, or for tests. It returns at once; the restart goes
// on in the background (PeerStats.Restarting, Restarts). The error is
// ErrSignalingGone (wrapped in a PeerError) if the Signaler no longer
// works, so no restart can be negotiated, and ErrClosed if the Mesh is
// closed or the Link ended (Disconnect).
func (l *Link) Restart() error {
	if l.mesh.closed.Load() || l.disconnected.Load() {
		return ErrClosed
	}
	if err := l.mesh.SignalingErr(); err != nil {
		return l.restartImpossible(err)
	}
	l.mesh.goBackground(func() { l.requestRestart("asked by the game", anyGen) })
	return nil
}

// anyGen, as requestRestart's seen, restarts whatever the current
// negotiation.
const anyGen = -1

// requestRestart starts an ICE restart (offerer) or asks the peer for one
// (answerer), and arms the timer that repeats it if it does not reconnect.
// seen is, for a peer's request, the newest negotiation the peer had
// applied: if this side has made a newer one since, the request crossed it
// and is dropped.
func (l *Link) requestRestart(reason string, seen int64) error {
	if err := l.mesh.SignalingErr(); err != nil {
		return l.restartImpossible(err)
	}
	l.mu.Lock()
	if l.ended() {
		// Checked under mu: Disconnect and stopRestarting stop the timer
		// after setting their flag, so none is armed past them.
		l.mu.Unlock()
		return nil
	}
	if seen != anyGen && !l.restartStart.IsZero() && time.Since(l.restartStart) < l.mesh.cfg.ICERestartTimeout {
		// A restart is running and its timer will repeat it if need be: a
		// peer's requests meanwhile (a lost answer, or a flood) add nothing.
		l.mu.Unlock()
		return nil
	}
	if l.restartStart.IsZero() {
		l.restartStart = time.Now()
	}
	if l.restartTimer != nil {
		l.restartTimer.Stop()
	}
	l.restartTimer = time.AfterFunc(l.mesh.cfg.ICERestartTimeout, l.restartDue)
	l.mu.Unlock()

	ctx, cancel := context.WithTimeout(l.mesh.ctx, l.mesh.cfg.ICERestartTimeout)
	defer cancel()
	var err error
	if l.offerer {
		err = l.restartOffer(ctx, reason, seen)
	} else {
		l.mesh.log.Info("netcode: asking peer to restart ICE", "peer", l.peer, "reason", reason)
		l.attempted()
		err = l.mesh.sig.Send(ctx, l.peer, Signal{Kind: SignalRestart, Restart: l.gen.Load()})
	}
	if err != nil && l.mesh.ctx.Err() == nil && !l.disconnected.Load() {
		if gone := l.mesh.SignalingErr(); gone != nil {
			err = gone
		} else {
			err = fmt.Errorf("%w: ICE restart: %w", ErrSignaling, err)
		}
		l.mesh.report(l.peer, err)
	}
	return err
}

// restartOffer makes and sends the offer of a new ICE negotiation or, if
// the answer to the last one never came, sends that offer again (pion
// allows no second offer before the answer, and the first one's ICE
// restart has already happened here). seen: see requestRestart.
func (l *Link) restartOffer(ctx context.Context, reason string, seen int64) error {
	l.pcMu.Lock()
	gen := l.gen.Load()
	if seen != anyGen && int64(gen) > seen {
		l.pcMu.Unlock()
		return nil
	}
	var sdp string
	if pending := l.pc.PendingLocalDescription(); pending != nil && l.pc.SignalingState() == webrtc.SignalingStateHaveLocalOffer {
		sdp, reason = pending.SDP, reason+"; no answer yet, offering again"
	} else {
		gen = l.gen.Add(1) // before CreateOffer: it starts gathering at once
		offer, err := l.pc.CreateOffer(&webrtc.OfferOptions{ICERestart: true})
		if err == nil {
			err = l.pc.SetLocalDescription(offer)
		}
		if err != nil {
			l.pcMu.Unlock()
			return fmt.Errorf("netcode: peer %d: ICE restart offer: %w", l.peer, err)
		}
		sdp = offer.SDP
	}
	l.pcMu.Unlock()
	l.attempted()
	l.mesh.log.Info("netcode: restarting ICE", "peer", l.peer, "restart", gen, "reason", reason)
	return l.mesh.sig.Send(ctx, l.peer, Signal{Kind: SignalOffer, SDP: sdp, Restart: gen})
}

// restartImpossible reports (and returns) that the Signaler is gone when a
// restart needs it.
func (l *Link) restartImpossible(gone error) error {
	err := PeerError{Peer: l.peer, Err: fmt.Errorf("cannot restart ICE: %w", gone)}
	l.mesh.report(l.peer, err.Err)
	return err
}

// attempted counts a restart offer or request about to be sent.
func (l *Link) attempted() {
	l.mu.Lock()
	l.restartAttempts++
	l.mu.Unlock()
}

// ended says the Link is never restarted again: the peer left, or the
// session gave up on it.
func (l *Link) ended() bool { return l.left.Load() || l.disconnected.Load() }

// stopRestarting ends the restarts of a peer that left.
func (l *Link) stopRestarting() {
	l.left.Store(true)
	l.mu.Lock()
	if l.restartTimer != nil {
		l.restartTimer.Stop()
		l.restartTimer = nil
	}
	l.mu.Unlock()
}

// Disconnect ends the Link for good, for a peer the game's session has
// given up on (rollback's PeerStats.Disconnected, which precedes
// EventPeerDisconnected): the session ignores the peer from then on, so
// restarting ICE with it every Config.ICERestartTimeout would only cost
// signaling and sockets. ICE is never restarted again, the peer's signals
// are ignored, sends fail with ErrClosed, and the PeerConnection is closed
// in the background (Mesh.Close waits for it), which frees its sockets and
// pion's goroutines. The Link stays in the Mesh, for its Stats.
//
// Join's Session calls it by itself after each AdvanceFrame; a game that
// runs its own rollback.Session over a Mesh calls it when the session
// gives up on a peer. It returns at once, never touches the session, and
// is safe to call more than once, from any goroutine.
func (l *Link) Disconnect() {
	if l.disconnected.Swap(true) {
		return
	}
	l.mu.Lock()
	if l.restartTimer != nil {
		l.restartTimer.Stop()
		l.restartTimer = nil
	}
	l.restartStart = time.Time{} // a restart running now never completes
	l.mu.Unlock()
	var last PeerStats
	l.transportStats(&last)
	l.lastPath.Store(&last)
	l.mesh.log.Info("netcode: the session gave up on the peer; closing its link", "peer", l.peer)
	l.mesh.goBackground(func() {
		if err := closePeerConnection(l.pc); err != nil {
			l.mesh.log.Debug("netcode: closing a disconnected peer", "peer", l.peer, "err", err)
		}
	})
}

// enter registers a background task (a restart, a timer's callback) that
// Close waits for; it returns false once the Mesh is closing.
func (m *Mesh) enter() bool {
	m.bgMu.Lock()
	defer m.bgMu.Unlock()
	if m.closed.Load() {
		return false
	}
	m.bg.Add(1)
	return true
}

func (m *Mesh) leave() { m.bg.Done() }

// goBackground runs f in a goroutine that Close waits for, unless the Mesh
// is closing.
func (m *Mesh) goBackground(f func()) {
	if m.enter() {
		go func() {
			defer m.leave()
			f()
		}()
	}
}

// report queues a problem with peer for Errors and logs it.
func (m *Mesh) report(peer PeerID, err error) {
	m.log.Warn("netcode: peer problem", "peer", peer, "err", err)
	m.errMu.Lock()
	if len(m.errs) < maxQueuedErrors {
		m.errs = append(m.errs, PeerError{Peer: peer, Err: err})
	}
	m.errMu.Unlock()
}

// Errors appends the problems the Mesh met since the last call to dst: an
// ICE restart that could not be negotiated (ErrSignalingGone, ErrSignaling).
func (m *Mesh) Errors(dst []PeerError) []PeerError {
	m.errMu.Lock()
	defer m.errMu.Unlock()
	dst = append(dst, m.errs...)
	clear(m.errs)
	m.errs = m.errs[:0]
	return dst
}

// SignalingErr returns nil while the Signaler works, and an error wrapping
// ErrSignalingGone and the Signaler's own once its Recv failed: the game
// goes on over the connections that work, but a path that breaks can no
// longer be restarted.
func (m *Mesh) SignalingErr() error {
	if p := m.sigErr.Load(); p != nil {
		return *p
	}
	return nil
}
