package rollback

import "time"

// Transport carries messages between this peer and the others. The engine
// defines it; netcode implements it over WebRTC and UDP, rollbacktest in
// memory. Both methods are called only from the goroutine that drives the
// session, and neither may block.
type Transport[I comparable] interface {
	// Send queues m for peer to. It may drop the message (the engine repeats
	// what matters) except messages whose Kind.Reliable() is true, which must
	// arrive, in order. Send must not keep m or anything it points to after
	// it returns: the engine reuses them.
	Send(to PeerID, m *Message[I])
	// Receive returns the next message that has arrived, or ok == false when
	// none is waiting. The message and what it points to stay valid until the
	// next call to Receive.
	Receive() (from PeerID, m *Message[I], ok bool)
}

// MessageKind says what a Message is.
type MessageKind uint8

const (
	// KindSync opens a session: sent until the peer is heard from, it carries
	// the session fingerprint so peers with different configs refuse each other.
	KindSync MessageKind = 1
	// KindInput carries inputs (redundantly: every input the receiver has not
	// acknowledged, oldest first), the acknowledgement of the receiver's
	// inputs, the sender's view of every player's connection, and optionally
	// a ping, a pong and a checksum.
	KindInput MessageKind = 2
	// KindSnapshot carries a saved state for a spectator that joins late.
	// It is the only reliable message.
	KindSnapshot MessageKind = 3
	// KindGoodbye says the sender is leaving, so others need not wait for the
	// disconnect timeout.
	KindGoodbye MessageKind = 4
)

// Reliable reports whether messages of this kind must be delivered reliably
// and in order. All other kinds tolerate loss, duplication and reordering.
func (k MessageKind) Reliable() bool { return k == KindSnapshot }

func (k MessageKind) String() string {
	switch k {
	case KindSync:
		return "sync"
	case KindInput:
		return "input"
	case KindSnapshot:
		return "snapshot"
	case KindGoodbye:
		return "goodbye"
	}
	return "kind(?)"
}

// PlayerStatus is one peer's view of one player's input stream.
type PlayerStatus struct {
	// LastFrame is the last frame for which the peer holds this player's
	// input and every earlier one (NoFrame if none).
	LastFrame Frame
	// Disconnected is true once the peer has given up on the player; from
	// then on LastFrame no longer grows.
	Disconnected bool
}

// Message is everything one peer says to another. It is one flat struct, not
// an interface, so that sending and receiving allocate nothing; Kind says
// which fields mean something.
type Message[I comparable] struct {
	Kind MessageKind

	// Fingerprint (KindSync) identifies the session's shape: players, their
	// peers, the input type. Peers with different fingerprints refuse each other.
	Fingerprint uint64

	// Frame is the frame of Inputs[0] (KindInput) or of State (KindSnapshot).
	Frame Frame
	// Inputs (KindInput) are consecutive frames of input, frame-major: for
	// each frame, one input per player the sender hosts (in player order), or
	// per player of the game on the stream from a peer to its spectator.
	Inputs []I
	// PerFrame (KindInput) is how many of Inputs belong to one frame, so a
	// transport can cut a long message at a frame boundary.
	PerFrame int
	// Ack (KindInput) is the last frame of the receiver's input stream that
	// the sender holds, with every earlier one (NoFrame if none).
	Ack Frame
	// Status (KindInput) is the sender's view of every player, indexed by
	// Player. Peers use it to agree on when a player disconnected.
	Status []PlayerStatus

	// HasPing (KindInput) marks a ping: PingTime is the sender's session time
	// and PingFrame its current frame; Advantage is how many frames the
	// sender believes it runs ahead of the receiver.
	HasPing   bool
	PingTime  time.Duration
	PingFrame Frame
	Advantage float32

	// HasPong (KindInput) answers the receiver's ping: PongTime echoes its
	// PingTime, PongHold is how long the sender held it before answering.
	HasPong  bool
	PongTime time.Duration
	PongHold time.Duration

	// HasChecksum (KindInput) reports the checksum of the sender's state at
	// ChecksumFrame, a frame every peer has confirmed.
	HasChecksum   bool
	ChecksumFrame Frame
	Checksum      uint64

	// State (KindSnapshot) is a state saved by Game.Save at Frame.
	State []byte
}

// Reset clears m for reuse, keeping the capacity of its slices.
func (m *Message[I]) Reset() {
	inputs, status, state := m.Inputs[:0], m.Status[:0], m.State[:0]
	*m = Message[I]{Inputs: inputs, Status: status, State: state}
}

// CopyFrom makes m a deep copy of src, reusing m's slices. Transports that
// queue messages use it to honour Send's "must not keep m" rule.
func (m *Message[I]) CopyFrom(src *Message[I]) {
	inputs := append(m.Inputs[:0], src.Inputs...)
	status := append(m.Status[:0], src.Status...)
	state := append(m.State[:0], src.State...)
	*m = *src
	m.Inputs, m.Status, m.State = inputs, status, state
}
