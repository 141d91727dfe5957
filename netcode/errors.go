package netcode

import (
	"errors"
	"fmt"
	"strings"

	"github.com/pion/webrtc/v4"
)

var (
	// ErrInvalidConfig reports arguments to Connect that cannot work: no
	// signaler, duplicate peers, a negative queue length.
	ErrInvalidConfig = errors.New("netcode: invalid config")
	// ErrClosed is returned when sending on a Link of a closed Mesh, or on
	// a Link ended by Link.Disconnect, and by Link.Restart on either.
	ErrClosed = errors.New("netcode: closed")
	// ErrUnknownPeer is returned when a peer is not part of the Mesh.
	ErrUnknownPeer = errors.New("netcode: unknown peer")
	// ErrNotOpen is returned when sending on a channel that is not open.
	ErrNotOpen = errors.New("netcode: channel not open")
	// ErrSendBufferFull is returned by SendInput when the unreliable
	// channel already holds Config.MaxInputBuffered bytes that pion has not
	// put on the wire: the packet is dropped (and counted) rather than queued.
	ErrSendBufferFull = errors.New("netcode: send buffer full")
	// ErrSignaling wraps a failure of the Signaler during Connect.
	ErrSignaling = errors.New("netcode: signaling failed")
	// ErrSignalingGone says the Signaler stopped working after Connect (the
	// signaling server went away and the client could not resume) when
	// something needed it: an ICE restart. The connections that work carry
	// on; a path that breaks can no longer be restarted. It reaches the game
	// as a PeerError (Mesh.Errors, Session.PeerErrors) and from Link.Restart.
	ErrSignalingGone = errors.New("netcode: signaling gone")
	// ErrConnect is wrapped by every ConnectError.
	ErrConnect = errors.New("netcode: connect failed")
)

// PeerFailure says why one peer did not connect.
type PeerFailure struct {
	Peer PeerID
	// State is the peer connection's state when Connect gave up.
	State webrtc.PeerConnectionState
	// InputOpen and ControlOpen say which data channels had opened.
	InputOpen, ControlOpen bool
	// Err is the first error seen for this peer (nil if it was just slow).
	Err error
}

// ConnectError is returned by Connect when some peers did not get both
// channels open. It wraps ErrConnect and the cause (a context error, a
// signaling error, or the Err of the failed peer that ended Connect).
type ConnectError struct {
	Self   PeerID
	Failed []PeerFailure
	Cause  error
}

func (e *ConnectError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "netcode: peer %d: connect failed", e.Self)
	for _, f := range e.Failed {
		fmt.Fprintf(&b, "; peer %d: state %s, input open %t, control open %t", f.Peer, f.State, f.InputOpen, f.ControlOpen)
		if f.Err != nil {
			fmt.Fprintf(&b, ": %v", f.Err)
		}
	}
	if e.Cause != nil && !e.causeIsPeerErr() {
		fmt.Fprintf(&b, ": %v", e.Cause)
	}
	return b.String()
}

func (e *ConnectError) causeIsPeerErr() bool {
	for _, f := range e.Failed {
		if f.Err == e.Cause {
			return true
		}
	}
	return false
}

// Unwrap returns ErrConnect and the cause.
func (e *ConnectError) Unwrap() []error { return []error{ErrConnect, e.Cause} }
