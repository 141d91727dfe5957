package wire

import (
	"errors"
	"fmt"
)

var (
	// ErrVersion is wrapped by *VersionError: the packet was written in a
	// protocol version this peer does not speak. Tell the peer (a Bye with
	// ByeVersion) and the game, then close the connection.
	ErrVersion = errors.New("wire: unsupported protocol version")
	// ErrUnknownType is returned for a packet of the right version whose type
	// this decoder does not know (or that belongs to the other decoder:
	// DecodeMessage for control types, DecodeControl for engine types).
	// Ignore the packet and count it.
	ErrUnknownType = errors.New("wire: unknown message type")
	// ErrMalformed wraps every reason a packet could not be decoded:
	// truncated, trailing bytes, wrong msgpack types, values out of range,
	// limits exceeded, inputs the InputCodec rejects.
	ErrMalformed = errors.New("wire: malformed packet")
	// ErrInvalidMessage wraps every reason a message could not be encoded
	// (the caller's mistake, never the network's).
	ErrInvalidMessage = errors.New("wire: invalid message")
)

// VersionError says a packet was written in protocol version Got; this
// peer speaks Want.
type VersionError struct {
	Got, Want uint64
}

func (e *VersionError) Error() string {
	return fmt.Sprintf("wire: peer speaks protocol version %d, this peer speaks %d", e.Got, e.Want)
}

// Unwrap makes errors.Is(err, ErrVersion) true.
func (e *VersionError) Unwrap() error { return ErrVersion }

// malformed returns an error wrapping ErrMalformed. It is only called on
// the error path, so its allocation never counts in steady state.
func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrMalformed}, args...)...)
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalidMessage}, args...)...)
}
