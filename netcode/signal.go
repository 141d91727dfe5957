package netcode

import (
	"context"
	"fmt"

	"github.com/pion/webrtc/v4"
)

// SignalKind says what a Signal carries.
type SignalKind uint8

const (
	// SignalOffer carries an SDP offer. Of two peers given to Connect, the
	// one with the lower PeerID offers; a peer that arrives later and is let
	// in by Config.AcceptPeer offers too.
	SignalOffer SignalKind = iota + 1
	// SignalAnswer carries the SDP answer to an offer.
	SignalAnswer
	// SignalCandidate carries one trickled ICE candidate.
	SignalCandidate
	// SignalRestart asks the offering side of a pair to restart ICE (the
	// answering side saw the path break, or its game called Link.Restart).
	// Restart is the last restart the sender has seen; the offerer ignores
	// a request it has already answered with a newer restart.
	SignalRestart
)

// signalGone is never sent: a Signaler's Recv returns it to tell the Mesh
// that a peer has left: the Link to a peer it accepted (Config.AcceptPeer)
// is closed and its PeerID can be given to another peer; the Link to
// another peer is no longer restarted. It has no text form, so no remote
// peer can forge it.
const signalGone SignalKind = 255

var signalKindNames = [...]string{SignalOffer: "offer", SignalAnswer: "answer", SignalCandidate: "candidate", SignalRestart: "restart"}

func (k SignalKind) String() string {
	if int(k) < len(signalKindNames) && signalKindNames[k] != "" {
		return signalKindNames[k]
	}
	return fmt.Sprintf("SignalKind(%d)", uint8(k))
}

// MarshalText encodes the kind as "offer", "answer", "candidate" or
// "restart", so a Signal is JSON a browser can read.
func (k SignalKind) MarshalText() ([]byte, error) {
	if int(k) < len(signalKindNames) && signalKindNames[k] != "" {
		return []byte(signalKindNames[k]), nil
	}
	return nil, fmt.Errorf("%w: signal kind %d", ErrInvalidConfig, uint8(k))
}

// UnmarshalText is the inverse of MarshalText.
func (k *SignalKind) UnmarshalText(b []byte) error {
	for i, n := range signalKindNames {
		if n != "" && n == string(b) {
			*k = SignalKind(i)
			return nil
		}
	}
	return fmt.Errorf("netcode: unknown signal kind %q", b)
}

// Signal is one signaling message between two peers. Its JSON form is
//
//	{"kind":"offer","sdp":"v=0..."}
//	{"kind":"candidate","candidate":{"candidate":"candidate:...","sdpMid":"0","sdpMLineIndex":0,"usernameFragment":null}}
//	{"kind":"offer","sdp":"v=0...","restart":2}
//	{"kind":"restart","restart":1}
//
// which is what a browser's RTCSessionDescription and RTCIceCandidate
// produce, so a WebSocket signaling server can relay it unchanged.
// "restart" numbers ICE restarts (PROTOCOL.md, ICE restart): the first
// connection is 0 (omitted).
type Signal struct {
	Kind SignalKind `json:"kind"`
	// SDP is set for SignalOffer and SignalAnswer.
	SDP string `json:"sdp,omitempty"`
	// Candidate is set for SignalCandidate. A nil Candidate or an empty
	// Candidate.Candidate marks the end of the sender's candidates (as a
	// browser's null candidate does) and is ignored.
	Candidate *webrtc.ICECandidateInit `json:"candidate,omitempty"`
	// Peer, in an answer, is the PeerID under which the answering Mesh
	// accepted the offerer (Config.AcceptPeer): a spectator learns its id
	// this way. Zero (omitted) otherwise.
	Peer PeerID `json:"peer,omitempty"`
	// Restart numbers the ICE negotiation an offer, answer or candidate
	// belongs to: 0 for the first, n for the n-th ICE restart of the pair.
	// Offers and answers of an older restart than the one applied are
	// ignored (they were overtaken); candidates of a newer one are held
	// until its offer or answer arrives. In a SignalRestart it is the
	// newest restart the requester has applied.
	Restart uint32 `json:"restart,omitempty"`
}

// Signaler carries Signals between this peer and the others, addressed to
// one peer. A WebSocket signaling client, an in-memory hub or a game's own
// lobby can implement it. Send and Recv are called from different goroutines
// (Send also from pion's candidate callbacks), so implementations must be
// safe for concurrent use; both must return promptly once ctx is done.
// Order need not be preserved: candidates that arrive before the offer or
// answer are held until it does.
type Signaler interface {
	// Send delivers s to peer to.
	Send(ctx context.Context, to PeerID, s Signal) error
	// Recv returns the next Signal addressed to this peer.
	Recv(ctx context.Context) (from PeerID, s Signal, err error)
}
