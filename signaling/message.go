package signaling

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/coder/websocket"
)

// ProtocolVersion is the signaling protocol version this package speaks. It is sent in
// every welcome; a client may ask for it with ?v=1 and gets a bad-version error otherwise.
const ProtocolVersion = 1

// StatusReplaced is the close status of a socket whose peer resumed on a newer socket
// (the other close statuses are RFC 6455's; see PROTOCOL.md).
const StatusReplaced websocket.StatusCode = 4000

// PeerID identifies a peer within a room. The server assigns it; it survives a resume.
type PeerID string

// Role is what a peer is in its room.
type Role string

const (
	// RolePlayer takes a slot in the player order and counts toward the room size.
	RolePlayer Role = "player"
	// RoleSpectator watches; it may join before or after start and never counts.
	RoleSpectator Role = "spectator"
)

// Message types on the wire (the "type" field).
const (
	TypeWelcome    = "welcome"
	TypePeerJoined = "peer-joined"
	TypePeerLeft   = "peer-left"
	TypeSignal     = "signal"
	TypeStart      = "start"
	TypeError      = "error"
	TypeLeave      = "leave"
)

// ICEServer is one STUN or TURN server, exactly the browser RTCIceServer shape, so the
// welcome's iceServers list can be handed to new RTCPeerConnection({iceServers}) as is.
type ICEServer struct {
	URLs       []string `json:"urls"`
	Username   string   `json:"username,omitempty"`
	Credential string   `json:"credential,omitempty"`
}

// PeerInfo names a peer present in a room.
type PeerInfo struct {
	ID   PeerID `json:"id"`
	Role Role   `json:"role"`
}

// Welcome is the first message on every connection, including after a resume.
type Welcome struct {
	Version     int         `json:"version"`
	ID          PeerID      `json:"id"`
	Room        string      `json:"room"`
	Role        Role        `json:"role"`
	Players     int         `json:"players"`
	Peers       []PeerInfo  `json:"peers"`
	ICEServers  []ICEServer `json:"iceServers"`
	ResumeToken string      `json:"resumeToken"`
	Resumed     bool        `json:"resumed"`
	// Start is set when the room has already started (spectators joining late, resumes).
	Start *Start `json:"start,omitempty"`
}

// PeerJoined tells the members of a room that a peer arrived.
type PeerJoined struct {
	Peer PeerInfo `json:"peer"`
}

// PeerLeft tells the members of a room that a peer is gone for good (left, was closed, or
// its resume grace period ran out).
type PeerLeft struct {
	ID PeerID `json:"id"`
}

// Signal is an opaque payload (SDP offer or answer, ICE candidate, anything) from one peer.
type Signal struct {
	From PeerID          `json:"from"`
	Data json.RawMessage `json:"data"`
}

// Start is sent to every member when the room has its N players.
type Start struct {
	Order []PeerID `json:"order"`
	// Seed is encoded as a decimal string: JSON numbers lose precision above 2^53 in
	// JavaScript.
	Seed uint64 `json:"seed,string"`
}

// Error is an error reported by the server. Fatal errors are followed by a close.
type Error struct {
	Code    ErrorCode `json:"code"`
	Message string    `json:"message"`
	Fatal   bool      `json:"fatal"`
}

func (e *Error) Error() string {
	return fmt.Sprintf("signaling: %s: %s", e.Code, e.Message)
}

// Is lets errors.Is(err, &Error{Code: c}) match on the code alone.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code && t.Message == ""
}

// ErrorCode is the machine-readable part of an error message; see PROTOCOL.md.
type ErrorCode string

// Error codes; PROTOCOL.md says when each is sent and whether it is fatal.
const (
	CodeBadMessage         ErrorCode = "bad-message"
	CodeUnknownType        ErrorCode = "unknown-type"
	CodeUnknownPeer        ErrorCode = "unknown-peer"
	CodeBadRequest         ErrorCode = "bad-request"
	CodeBadRoom            ErrorCode = "bad-room"
	CodeBadVersion         ErrorCode = "bad-version"
	CodePlayersMismatch    ErrorCode = "players-mismatch"
	CodeRoomStarted        ErrorCode = "room-started"
	CodeRoomFull           ErrorCode = "room-full"
	CodeTooManyRooms       ErrorCode = "too-many-rooms"
	CodeTooManyConnections ErrorCode = "too-many-connections"
	CodeBadToken           ErrorCode = "bad-token"
	CodeTokenExpired       ErrorCode = "token-expired"
	CodeBadResume          ErrorCode = "bad-resume"
	CodeRateLimited        ErrorCode = "rate-limited"
	CodeTooManyBadMessages ErrorCode = "too-many-bad-messages"
	CodeQueueFull          ErrorCode = "queue-full"
	CodeShuttingDown       ErrorCode = "shutting-down"
)

// clientMessage is what a client may send: a signal addressed to one peer, or leave.
type clientMessage struct {
	Type string          `json:"type"`
	To   PeerID          `json:"to,omitempty"`
	Data json.RawMessage `json:"data,omitempty"`
}

// decodeError says what was wrong with a client message; Code is bad-message or
// unknown-type, Reason is safe to send back.
type decodeError struct {
	Code   ErrorCode
	Reason string
}

func (e *decodeError) Error() string { return string(e.Code) + ": " + e.Reason }

// maxPeerIDLen bounds peer ids accepted from the network; server ids are 16 characters.
const maxPeerIDLen = 64

// decodeClientMessage parses one text frame from a client. It never panics; the error is
// a *decodeError naming the problem in words safe to send back to the client.
func decodeClientMessage(data []byte) (clientMessage, error) {
	var m clientMessage
	if err := json.Unmarshal(data, &m); err != nil {
		return clientMessage{}, &decodeError{CodeBadMessage, "not a JSON object: " + trimErr(err)}
	}
	switch m.Type {
	case TypeSignal:
		if m.To == "" {
			return clientMessage{}, &decodeError{CodeBadMessage, `signal without "to"`}
		}
		if len(m.To) > maxPeerIDLen {
			return clientMessage{}, &decodeError{CodeBadMessage, `signal "to" too long`}
		}
		if len(m.Data) == 0 || bytes.Equal(m.Data, []byte("null")) {
			return clientMessage{}, &decodeError{CodeBadMessage, `signal without "data"`}
		}
		return m, nil
	case TypeLeave:
		return clientMessage{Type: TypeLeave}, nil
	case "":
		return clientMessage{}, &decodeError{CodeBadMessage, `missing "type"`}
	default:
		t := m.Type
		if len(t) > 32 {
			t = t[:32] + "…"
		}
		return clientMessage{}, &decodeError{CodeUnknownType, fmt.Sprintf("unknown message type %q", t)}
	}
}

// trimErr keeps json error text short and free of echoed input.
func trimErr(err error) string {
	s := err.Error()
	s = strings.TrimPrefix(s, "json: ")
	if len(s) > 120 {
		s = s[:120] + "…"
	}
	return s
}

// serverEnvelope is the union of every server message's fields; the client decodes into it
// in one pass and then picks the typed event by Type.
type serverEnvelope struct {
	Type string `json:"type"`
	// welcome: its fields at the top level, as on the wire
	Welcome
	// peer-joined
	Peer *PeerInfo `json:"peer"`
	// signal
	From PeerID          `json:"from"`
	Data json.RawMessage `json:"data"`
	// start
	Order []PeerID `json:"order"`
	Seed  uint64   `json:"seed,string"`
	// error
	Code    ErrorCode `json:"code"`
	Message string    `json:"message"`
	Fatal   bool      `json:"fatal"`
}

// decodeServerMessage parses one text frame from the server into *Welcome, *PeerJoined,
// *PeerLeft, *Signal, *Start or *Error. Unknown types yield (nil, nil): newer servers may
// add messages and older clients ignore them.
func decodeServerMessage(data []byte) (any, error) {
	var e serverEnvelope
	if err := json.Unmarshal(data, &e); err != nil {
		return nil, fmt.Errorf("%w: %s", ErrBadServerMessage, trimErr(err))
	}
	switch e.Type {
	case TypeWelcome:
		if e.ID == "" {
			return nil, fmt.Errorf("%w: welcome without id", ErrBadServerMessage)
		}
		w := e.Welcome
		return &w, nil
	case TypePeerJoined:
		if e.Peer == nil || e.Peer.ID == "" {
			return nil, fmt.Errorf("%w: peer-joined without peer", ErrBadServerMessage)
		}
		return &PeerJoined{Peer: *e.Peer}, nil
	case TypePeerLeft:
		if e.ID == "" {
			return nil, fmt.Errorf("%w: peer-left without id", ErrBadServerMessage)
		}
		return &PeerLeft{ID: e.ID}, nil
	case TypeSignal:
		if e.From == "" || len(e.Data) == 0 {
			return nil, fmt.Errorf("%w: signal without from or data", ErrBadServerMessage)
		}
		return &Signal{From: e.From, Data: e.Data}, nil
	case TypeStart:
		return &Start{Order: e.Order, Seed: e.Seed}, nil
	case TypeError:
		return &Error{Code: e.Code, Message: e.Message, Fatal: e.Fatal}, nil
	case "":
		return nil, fmt.Errorf("%w: missing type", ErrBadServerMessage)
	default:
		return nil, nil
	}
}

// encode marshals a message with its "type" first. Every payload is a plain struct, so the
// only possible error is a RawMessage that is not JSON, which decodeClientMessage rules out.
// HTML escaping is off so that relayed payloads keep their bytes ("<" stays "<").
func encode(typ string, payload any) []byte {
	var buf bytes.Buffer
	buf.Grow(128)
	buf.WriteString(`{"type":`)
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.Encode(typ)
	buf.Truncate(buf.Len() - 1) // Encode's newline
	mark := buf.Len()
	if err := enc.Encode(payload); err != nil {
		// Unreachable for our types; keep the frame valid rather than panic.
		buf.Truncate(mark)
		buf.WriteString("{}\n")
	}
	body := buf.Bytes()[mark : buf.Len()-1]
	if len(body) > 2 { // not "{}": splice the payload's fields after "type"
		body[0] = ','
		buf.Truncate(buf.Len() - 1)
	} else {
		buf.Truncate(mark)
		buf.WriteByte('}')
	}
	return buf.Bytes()
}

// encodeSignal is the client->server signal frame.
func encodeSignal(to PeerID, data json.RawMessage) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(struct {
		Type string `json:"type"`
		signalOut
	}{TypeSignal, signalOut{To: to, Data: data}}); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// signalOut is the client->server form of a signal.
type signalOut struct {
	To   PeerID          `json:"to"`
	Data json.RawMessage `json:"data"`
}

// Event is something the server told a Client: *PeerJoined, *PeerLeft, *Signal, *Start,
// *Resumed, or *Error (non-fatal; fatal errors end the client and come from Recv's error).
type Event interface{ isEvent() }

// Resumed is a client-side event: the socket dropped and the client re-attached with its
// resume token, keeping its id. Messages sent to it meanwhile follow.
type Resumed struct {
	Welcome *Welcome
}

func (*PeerJoined) isEvent() {}
func (*PeerLeft) isEvent()   {}
func (*Signal) isEvent()     {}
func (*Start) isEvent()      {}
func (*Error) isEvent()      {}
func (*Resumed) isEvent()    {}
