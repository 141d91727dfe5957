package relay

import "errors"

// Sentinel errors. Errors returned by this package wrap one of these (test
// with errors.Is) and add detail.
var (
	// ErrMalformedUsername means a TURN username is not of the form
	// "<unix-expiry>:<user>" with a decimal, unsigned, in-range expiry and a
	// non-empty user.
	ErrMalformedUsername = errors.New("relay: malformed TURN username")

	// ErrExpired means time-limited credentials are past their expiry.
	ErrExpired = errors.New("relay: TURN credentials expired")

	// ErrBadPassword means a password does not match the username under the
	// shared secret (wrong secret, tampered username or forged password).
	ErrBadPassword = errors.New("relay: TURN password does not match")

	// ErrPublicIPRequired means TURN is enabled (Config.Secret is set) but the
	// relay address to advertise cannot be derived: ListenAddr has no specific
	// IP and Config.PublicIP is unset.
	ErrPublicIPRequired = errors.New("relay: Config.PublicIP is required when listening on all interfaces")

	// ErrInvalidConfig means a Config field is out of range or inconsistent.
	ErrInvalidConfig = errors.New("relay: invalid config")

	// ErrCapacity means an allocation was refused because the server-wide or
	// the per-user allocation limit is reached. TURN clients see it as 486
	// (Allocation Quota Reached) or 508 (Insufficient Capacity).
	ErrCapacity = errors.New("relay: allocation limit reached")

	// ErrPeerForbidden means a relay was asked to send to a destination the
	// server refuses (Config.AllowPeer, or the server's own port).
	ErrPeerForbidden = errors.New("relay: peer address forbidden")

	// ErrTCPRelayUnsupported means a client asked for a TCP relay (RFC 6062),
	// which this server does not offer.
	ErrTCPRelayUnsupported = errors.New("relay: TCP relay allocations are not supported")
)
