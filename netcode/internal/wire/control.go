package wire

import (
	"math"

	"github.com/lynnet/lyn/rollback"
)

// Limits of control messages.
const (
	MaxAppLen    = 255      // Hello.App
	MaxReasonLen = 255      // Bye.Reason
	MaxSDPLen    = 16 << 10 // ICERestart.SDP
)

// Control is a message of the control channel other than a snapshot. Type
// says which of the other fields means something.
type Control struct {
	Type       Type // TypeHello, TypeBye or TypeICERestart
	Hello      Hello
	Bye        Bye
	ICERestart ICERestart
}

// Hello is the first message each side sends on the control channel. The
// protocol version is the packet's own (Version); a peer that does not
// speak it answers with a Bye of code ByeVersion in its own version.
type Hello struct {
	// Session identifies the session (room, settings) as the sender sees
	// it; peers with different values refuse each other (ByeMismatch).
	Session uint64
	// Peer is the sender's PeerID.
	Peer rollback.PeerID
	// Players is the player assignment as the sender sees it: Players[p]
	// hosts player p. Spectators are the peers not in it.
	Players []rollback.PeerID
	// App names the game and its version (at most MaxAppLen bytes).
	App string
}

// ByeCode says why a peer leaves.
type ByeCode uint8

// Bye codes. Decoders keep codes they do not know.
const (
	ByeLeaving  ByeCode = 0 // the player quit
	ByeVersion  ByeCode = 1 // the peer's protocol version is not spoken here
	ByeMismatch ByeCode = 2 // the hellos disagree (session, players, app)
	ByeRejected ByeCode = 3 // not welcome (full, kicked, …)
	ByeError    ByeCode = 4 // something went wrong; Reason says what
)

// Bye says the sender is closing the connection and why. Its layout is the
// same in every protocol version, so that a peer of any version can read
// why it was refused; never answer a Bye.
type Bye struct {
	Code   ByeCode
	Reason string // at most MaxReasonLen bytes
}

// ICEKind says what an ICERestart carries.
type ICEKind uint8

// ICE restart kinds.
const (
	ICEOffer     ICEKind = 0 // SDP is an offer with new ICE credentials
	ICEAnswer    ICEKind = 1 // SDP is the answer to it
	ICECandidate ICEKind = 2 // SDP is one trickled candidate line; empty: end of candidates
)

// ICERestart carries an ICE restart's offer, answer or candidates over the
// control channel itself, so a connection can move to a new path without the
// signaling server.
type ICERestart struct {
	Kind ICEKind
	SDP  string // at most MaxSDPLen bytes
}

// AppendControl appends the packet for c to dst. On error dst is returned
// unchanged.
func AppendControl(dst []byte, c *Control) ([]byte, error) {
	switch c.Type {
	case TypeHello:
		h := &c.Hello
		if len(h.Players) > MaxPlayers || len(h.App) > MaxAppLen {
			return dst, invalid("hello: %d players (limit %d), app of %d bytes (limit %d)",
				len(h.Players), MaxPlayers, len(h.App), MaxAppLen)
		}
		dst = append(dst, 0x96, Version, byte(TypeHello))
		dst = appendUint(dst, h.Session)
		dst = appendInt(dst, int64(h.Peer))
		dst = appendArrayHeader(dst, len(h.Players))
		for _, p := range h.Players {
			dst = appendInt(dst, int64(p))
		}
		return appendStr(dst, h.App), nil
	case TypeBye:
		if len(c.Bye.Reason) > MaxReasonLen {
			return dst, invalid("bye: reason of %d bytes, limit %d", len(c.Bye.Reason), MaxReasonLen)
		}
		dst = append(dst, 0x94, Version, byte(TypeBye))
		dst = appendUint(dst, uint64(c.Bye.Code))
		return appendStr(dst, c.Bye.Reason), nil
	case TypeICERestart:
		if c.ICERestart.Kind > ICECandidate || len(c.ICERestart.SDP) > MaxSDPLen {
			return dst, invalid("ice restart: kind %d, SDP of %d bytes (limit %d)",
				c.ICERestart.Kind, len(c.ICERestart.SDP), MaxSDPLen)
		}
		dst = append(dst, 0x94, Version, byte(TypeICERestart))
		dst = appendUint(dst, uint64(c.ICERestart.Kind))
		return appendStr(dst, c.ICERestart.SDP), nil
	}
	return dst, invalid("control type %s", c.Type)
}

// DecodeControl decodes a control packet (hello, bye, ICE restart) into c,
// reusing c.Hello.Players. It is all or nothing: on error c is unchanged —
// except for a Bye of another version, which is decoded into c (its layout
// never changes) and reported as a *VersionError too.
//
// Errors: *VersionError, ErrUnknownType (also for a snapshot: Peek first
// and give engine types to DecodeMessage), ErrMalformed.
func DecodeControl(b []byte, c *Control) error {
	if len(b) > MaxControlSize {
		return malformed("packet of %d bytes, limit %d", len(b), MaxControlSize)
	}
	r := reader{b: b}
	n, t, err := header(&r)
	if err != nil {
		if t == TypeBye && r.err == nil {
			if bye, ok := decodeBye(&r, n); ok {
				c.Type, c.Bye = TypeBye, bye
			}
		}
		return err
	}
	switch t {
	case TypeHello:
		if n != 6 {
			return malformed("hello: %d elements, want 6", n)
		}
		var h Hello
		h.Session = r.uint64("session")
		h.Peer = rollback.PeerID(r.intRange("peer", math.MinInt, math.MaxInt))
		np := r.arrayLen("players")
		if r.err == nil && np > MaxPlayers {
			r.fail("players: too many")
		}
		if r.err != nil {
			return malformed("hello: %s", r.what) // before looping np times
		}
		// Read the players twice: once to validate, then into the slice.
		start := r.off
		for range np {
			r.intRange("player's peer", math.MinInt, math.MaxInt)
		}
		app := r.str("app", MaxAppLen)
		r.done()
		if r.err != nil {
			return malformed("hello: %s", r.what)
		}
		pr := reader{b: b, off: start}
		h.Players = c.Hello.Players[:0]
		for range np {
			h.Players = append(h.Players, rollback.PeerID(pr.int("")))
		}
		h.App = string(app)
		c.Type, c.Hello = TypeHello, h
		return nil
	case TypeBye:
		bye, ok := decodeBye(&r, n)
		if !ok {
			return malformed("bye: %s", r.what)
		}
		c.Type, c.Bye = TypeBye, bye
		return nil
	case TypeICERestart:
		if n != 4 {
			return malformed("ice restart: %d elements, want 4", n)
		}
		kind := r.intRange("kind", 0, int64(ICECandidate))
		sdp := r.str("sdp", MaxSDPLen)
		r.done()
		if r.err != nil {
			return malformed("ice restart: %s", r.what)
		}
		c.Type, c.ICERestart = TypeICERestart, ICERestart{Kind: ICEKind(kind), SDP: string(sdp)}
		return nil
	}
	return ErrUnknownType
}

// decodeBye reads a bye's code and reason after the header.
func decodeBye(r *reader, n int) (Bye, bool) {
	if n != 4 {
		r.fail("wrong number of elements")
		return Bye{}, false
	}
	code := r.intRange("code", 0, 255)
	reason := r.str("reason", MaxReasonLen)
	r.done()
	if r.err != nil {
		return Bye{}, false
	}
	return Bye{Code: ByeCode(code), Reason: string(reason)}, true
}
