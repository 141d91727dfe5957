// Package wire is lyn's peer wire format: the msgpack encoding of every
// message two peers exchange over their data channels, specified in
// PROTOCOL.md ("Peer wire format"), whose hex examples are this package's
// golden tests. Every packet is a msgpack array that starts with the
// protocol version and a message type. A Codec encodes and decodes the
// engine's rollback.Message (sync, inputs with acks, statuses, ping, pong
// and checksum, snapshot, goodbye) without allocating: inputs go through the
// game's rollback.InputCodec, are XORed with the previous frame's and
// run-length coded, and a packet on the input channel never exceeds
// MaxPacketSize bytes — when the backlog does not fit, it carries the oldest
// frames that do. AppendControl and DecodeControl handle the control
// channel's hello, bye and ICE restart. Decoders never panic, never
// allocate more than a packet's limits allow, and change nothing when they
// reject a packet: a *VersionError for another protocol version,
// ErrUnknownType for a type to ignore and count, ErrMalformed for the rest.
package wire
