//go:build !js

package signaling

import (
	"log/slog"
	"math"
	"net"
	"net/http"
	"time"

	"golang.org/x/time/rate"
)

// Config configures a Server. The zero value is a sensible public default: no auth, no
// ICE servers, every origin allowed, limits sized for a small VPS. Each limit's default is
// given in its comment; a negative value disables the limit where noted, and elsewhere
// means the default.
type Config struct {
	// ICEServers returns the STUN/TURN servers to put in peerID's welcome, e.g. with
	// per-peer time-limited TURN credentials from signaling/relay. Nil means none.
	ICEServers func(peerID string) []ICEServer

	// JoinSecret, if set, makes a join token (?token=, see MintJoinToken) mandatory for
	// joining a room. Resumes need only the resume token. Nil means rooms are open.
	JoinSecret []byte

	// AllowedOrigins, if set, lists the Origin host patterns (path.Match, as in
	// websocket.AcceptOptions.OriginPatterns) allowed to connect; others get HTTP 403.
	// The request's own host is always allowed. Nil accepts any origin: the protocol
	// relies on no cookies or ambient credentials, so cross-site pages cannot abuse a
	// visitor's session.
	AllowedOrigins []string

	// ClientIP extracts the client address used for MaxConnsPerIP. Nil uses the host of
	// r.RemoteAddr. Behind a trusted proxy, read its X-Forwarded-For here.
	ClientIP func(r *http.Request) string

	// Logger receives structured logs. Nil discards them. Tokens, secrets and credentials
	// are never logged.
	Logger *slog.Logger

	// Now is the clock for join token expiry. Nil means time.Now.
	Now func() time.Time

	// MaxMessageBytes is the largest frame accepted; a larger one closes that connection
	// with status 1009. Default 64 KiB (an SDP offer is 1-6 KiB).
	MaxMessageBytes int64

	// MessagesPerSecond and MessageBurst bound what one connection may send (token
	// bucket). Over it: an error, then the connection is closed. Defaults 50/s, burst 100:
	// a peer in an 8-player room trickles ~10 candidates to each of 7 peers at once.
	// A negative rate disables the limit.
	MessagesPerSecond float64
	MessageBurst      int

	// MaxBadMessages is how many malformed or unknown messages one connection may send
	// (each answered with an error) before it is closed. Default 5; negative: never.
	MaxBadMessages int

	// MaxConnsPerIP bounds simultaneous connections from one client IP; over it, the
	// upgrade is refused with HTTP 429. Default 32; negative disables.
	MaxConnsPerIP int

	// MaxRooms bounds the number of rooms. Default 10 000; negative disables.
	MaxRooms int

	// MaxPeersPerRoom bounds players plus spectators in one room. Default 16; negative
	// disables (players are at most 8 in any case).
	MaxPeersPerRoom int

	// HandshakeTimeout bounds reading the HTTP upgrade request (applied by
	// Server.HTTPServer as ReadHeaderTimeout; set it yourself when embedding) and writing
	// the upgrade response and welcome. Default 10 s.
	HandshakeTimeout time.Duration

	// PingInterval is how long a connection may be silent before the server pings it.
	// Default 10 s.
	PingInterval time.Duration

	// IdleTimeout closes a connection from which nothing (no message, no pong) has
	// arrived for this long. Default 30 s; at least PingInterval plus a round trip.
	IdleTimeout time.Duration

	// SendQueueLen bounds the messages waiting to be written to one connection; a client
	// that falls this far behind is closed, so it can never hold up the others. Default 256.
	SendQueueLen int

	// WriteTimeout bounds one write to a connection; on expiry it is closed. Default 5 s.
	WriteTimeout time.Duration

	// ResumeGrace is how long a peer whose socket dropped keeps its id and place while it
	// may resume; the others see peer-left only when it expires. Default 30 s; negative
	// disables resume (peer-left is immediate).
	ResumeGrace time.Duration

	// MaxPendingMessages bounds the messages queued for a peer in its grace period. If
	// they overflow, the grace ends early (the peer leaves): its view of the room could not
	// be brought up to date. Default 128.
	MaxPendingMessages int
}

func (c Config) withDefaults() Config {
	// def applies a default to zero; a negative value means "no limit" where documented.
	def := func(v *int, d int, negativeUnlimited bool) {
		switch {
		case *v == 0, *v < 0 && !negativeUnlimited:
			*v = d
		case *v < 0:
			*v = math.MaxInt
		}
	}
	// Durations must be positive: a zero or negative timer interval would spin.
	defDur := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.ClientIP == nil {
		c.ClientIP = remoteIP
	}
	if c.MaxMessageBytes <= 0 {
		c.MaxMessageBytes = 64 << 10
	}
	switch {
	case c.MessagesPerSecond == 0:
		c.MessagesPerSecond = 50
	case c.MessagesPerSecond < 0:
		c.MessagesPerSecond = float64(rate.Inf)
	}
	def(&c.MessageBurst, 100, false)
	def(&c.MaxBadMessages, 5, true)
	def(&c.MaxConnsPerIP, 32, true)
	def(&c.MaxRooms, 10_000, true)
	def(&c.MaxPeersPerRoom, 16, true)
	defDur(&c.HandshakeTimeout, 10*time.Second)
	defDur(&c.PingInterval, 10*time.Second)
	defDur(&c.IdleTimeout, 30*time.Second)
	def(&c.SendQueueLen, 256, false)
	defDur(&c.WriteTimeout, 5*time.Second)
	if c.ResumeGrace == 0 {
		c.ResumeGrace = 30 * time.Second
	}
	def(&c.MaxPendingMessages, 128, false)
	return c
}

func remoteIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
