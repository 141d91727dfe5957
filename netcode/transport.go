package netcode

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/lynnet/lyn/netcode/internal/wire"
	"github.com/lynnet/lyn/rollback"
)

// Packets is what a Transport needs below it: datagrams to and from peers on
// the two channels, never blocking. *Mesh (WebRTC) and *UDP implement it.
type Packets interface {
	Send(to PeerID, ch Channel, b []byte) error
	// Receive returns the next packet; b stays valid until the next call.
	Receive() (from PeerID, ch Channel, b []byte, ok bool)
}

// Transport carries a rollback session's messages over Packets in lyn's
// wire format (PROTOCOL.md). It implements rollback.Transport[I]: the engine
// calls it from the game goroutine only.
//
// Nothing a peer sends can stop it: a packet of an unknown type is ignored
// and counted; a malformed one, or one on the wrong channel, is dropped and
// counted; a packet of another protocol version is dropped, counted, answered
// once with a bye that says which version this peer speaks, and reported as
// a PeerError wrapping ErrPeerVersion (see Errors).
type Transport[I comparable] struct {
	packets Packets
	codec   *wire.Codec[I]
	log     *slog.Logger
	out     []byte
	in      rollback.Message[I]
	ctl     wire.Control

	toldBye map[PeerID]bool
	n       transportCounters

	mu   sync.Mutex // guards errs, read from other goroutines
	errs []PeerError
}

type transportCounters struct {
	sent, received, bytesSent, bytesReceived, sendErrors, encodeErrors atomic.Uint64
	malformed, unknownType, versionMismatch, wrongChannel, control     atomic.Uint64
}

// TransportStats counts what a Transport did.
type TransportStats struct {
	PacketsSent, PacketsReceived uint64
	BytesSent, BytesReceived     uint64
	// SendErrors counts packets the layer below refused (a full buffer, a
	// closed link); the engine repeats what matters.
	SendErrors uint64
	// EncodeErrors counts messages that could not be encoded (a bug or an
	// input that does not fit a packet).
	EncodeErrors uint64
	// Malformed, UnknownType, VersionMismatch and WrongChannel count
	// dropped packets by reason.
	Malformed, UnknownType, VersionMismatch, WrongChannel uint64
	// Control counts control messages (hello, bye, ICE restart) received.
	Control uint64
}

// PeerError is a problem with one peer that the game should hear of.
type PeerError struct {
	Peer PeerID
	Err  error
}

func (e PeerError) Error() string { return fmt.Sprintf("netcode: peer %d: %v", e.Peer, e.Err) }
func (e PeerError) Unwrap() error { return e.Err }

// ErrPeerVersion says a peer speaks another protocol version (it sent a
// packet of that version, or a bye saying so).
var ErrPeerVersion = errors.New("netcode: peer speaks another protocol version")

// maxQueuedErrors bounds the errors kept for Errors.
const maxQueuedErrors = 64

// NewTransport returns a Transport over packets, encoding inputs with codec.
// logger may be nil.
func NewTransport[I comparable](packets Packets, codec rollback.InputCodec[I], logger *slog.Logger) (*Transport[I], error) {
	if packets == nil || codec == nil {
		return nil, fmt.Errorf("%w: nil packets or codec", ErrInvalidConfig)
	}
	c, err := wire.NewCodec(codec)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidConfig, err)
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Transport[I]{
		packets: packets, codec: c, log: logger,
		out:     make([]byte, 0, wire.MaxPacketSize),
		toldBye: map[PeerID]bool{},
	}, nil
}

// Send encodes m and sends it on the channel its kind needs. It never
// blocks; a packet the layer below refuses is counted and dropped.
func (t *Transport[I]) Send(to PeerID, m *rollback.Message[I]) {
	b, _, err := t.codec.AppendMessage(t.out[:0], m, m.PerFrame)
	if err != nil {
		t.n.encodeErrors.Add(1)
		t.log.Debug("netcode: cannot encode message", "peer", to, "kind", m.Kind, "err", err)
		return
	}
	if cap(b) <= 4*wire.MaxPacketSize {
		t.out = b // keep ordinary buffers; let a huge snapshot's go
	}
	ch := ChannelInput
	if m.Kind.Reliable() {
		ch = ChannelControl
	}
	if err := t.packets.Send(to, ch, b); err != nil {
		t.n.sendErrors.Add(1)
		return
	}
	t.n.sent.Add(1)
	t.n.bytesSent.Add(uint64(len(b)))
}

// Receive returns the next engine message, handling and dropping anything
// else (control messages, bad packets) on the way.
func (t *Transport[I]) Receive() (PeerID, *rollback.Message[I], bool) {
	for {
		from, ch, b, ok := t.packets.Receive()
		if !ok {
			return 0, nil, false
		}
		t.n.received.Add(1)
		t.n.bytesReceived.Add(uint64(len(b)))
		typ, err := wire.Peek(b)
		if err != nil {
			t.reject(from, err)
			continue
		}
		if !typ.Engine() {
			t.control(from, ch, b)
			continue
		}
		if (typ == wire.TypeSnapshot) != (ch == ChannelControl) {
			t.n.wrongChannel.Add(1)
			continue
		}
		perFrame, err := t.codec.DecodeMessage(b, &t.in)
		if err != nil {
			t.reject(from, err)
			continue
		}
		t.in.PerFrame = perFrame
		return from, &t.in, true
	}
}

// reject counts a bad packet; another version is also told and reported.
func (t *Transport[I]) reject(from PeerID, err error) {
	switch {
	case errors.Is(err, wire.ErrUnknownType):
		t.n.unknownType.Add(1)
	case errors.Is(err, wire.ErrVersion):
		t.n.versionMismatch.Add(1)
		if !t.toldBye[from] {
			t.toldBye[from] = true
			t.ctl = wire.Control{Type: wire.TypeBye, Bye: wire.Bye{Code: wire.ByeVersion,
				Reason: fmt.Sprintf("lyn speaks protocol version %d", wire.Version)}}
			if b, err := wire.AppendControl(t.out[:0], &t.ctl); err == nil {
				t.packets.Send(from, ChannelControl, b)
			}
			t.report(from, fmt.Errorf("%w: %w", ErrPeerVersion, err))
		}
	default:
		t.n.malformed.Add(1)
		t.log.Debug("netcode: malformed packet", "peer", from, "err", err)
	}
}

// control handles the netcode-level messages of the control channel.
func (t *Transport[I]) control(from PeerID, ch Channel, b []byte) {
	if ch != ChannelControl {
		t.n.wrongChannel.Add(1)
		return
	}
	if err := wire.DecodeControl(b, &t.ctl); err != nil {
		t.reject(from, err)
		return
	}
	t.n.control.Add(1)
	// The session's shape is checked by the engine's sync fingerprint; of
	// the control messages only a version refusal needs telling the game.
	// lyn restarts ICE through the Signaler (reconnect.go), never with an
	// ice-restart message (PROTOCOL.md says why): one is counted, ignored.
	if t.ctl.Type == wire.TypeBye && t.ctl.Bye.Code == wire.ByeVersion {
		t.report(from, fmt.Errorf("%w: %s", ErrPeerVersion, t.ctl.Bye.Reason))
	}
}

func (t *Transport[I]) report(from PeerID, err error) {
	t.log.Warn("netcode: peer problem", "peer", from, "err", err)
	t.mu.Lock()
	if len(t.errs) < maxQueuedErrors {
		t.errs = append(t.errs, PeerError{Peer: from, Err: err})
	}
	t.mu.Unlock()
}

// Errors appends the peer problems seen since the last call to dst.
func (t *Transport[I]) Errors(dst []PeerError) []PeerError {
	t.mu.Lock()
	defer t.mu.Unlock()
	dst = append(dst, t.errs...)
	t.errs = t.errs[:0]
	return dst
}

// Stats returns the transport's counters. Safe from any goroutine.
func (t *Transport[I]) Stats() TransportStats {
	n := &t.n
	return TransportStats{
		PacketsSent: n.sent.Load(), PacketsReceived: n.received.Load(),
		BytesSent: n.bytesSent.Load(), BytesReceived: n.bytesReceived.Load(),
		SendErrors: n.sendErrors.Load(), EncodeErrors: n.encodeErrors.Load(),
		Malformed: n.malformed.Load(), UnknownType: n.unknownType.Load(),
		VersionMismatch: n.versionMismatch.Load(), WrongChannel: n.wrongChannel.Load(),
		Control: n.control.Load(),
	}
}
