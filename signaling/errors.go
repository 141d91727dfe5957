package signaling

import "errors"

var (
	// ErrClosed is returned by Client methods after Close, and by Recv once the connection
	// is gone for good.
	ErrClosed = errors.New("signaling: client closed")
	// ErrResumeFailed means the socket dropped and re-attaching within the grace period
	// failed; the peer is out of the room.
	ErrResumeFailed = errors.New("signaling: resume failed")
	// ErrServerGoingAway means the server shut down (close status 1001).
	ErrServerGoingAway = errors.New("signaling: server going away")
	// ErrBadServerMessage means the server sent something this client cannot parse.
	ErrBadServerMessage = errors.New("signaling: bad server message")
	// ErrBadJoinToken means a join token is malformed or its signature does not match.
	ErrBadJoinToken = errors.New("signaling: bad join token")
	// ErrJoinTokenExpired means a join token's expiry has passed.
	ErrJoinTokenExpired = errors.New("signaling: join token expired")
	// ErrServerClosed is returned by Shutdown when called twice.
	ErrServerClosed = errors.New("signaling: server closed")
)
