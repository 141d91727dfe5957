package rollback

import (
	"fmt"
	"unsafe"
)

// InputCodec turns inputs into a fixed number of bytes and back. The engine
// itself never encodes inputs; netcode (the wire format) and replays do.
type InputCodec[I comparable] interface {
	// Size is the number of bytes of one encoded input, 1 to 255.
	Size() int
	// Put encodes in into dst, which has exactly Size bytes.
	Put(dst []byte, in I)
	// Get decodes an input from src, which has exactly Size bytes. Bytes come
	// from the network or a file: return an error for values the game would
	// not accept, never panic.
	Get(src []byte) (I, error)
}

// UintCodec encodes any unsigned integer input type (buttons as bits, for
// example: type Buttons uint16) little-endian in its natural size.
type UintCodec[I ~uint8 | ~uint16 | ~uint32 | ~uint64] struct{}

// Size returns the size of I in bytes.
func (UintCodec[I]) Size() int { var zero I; return int(unsafe.Sizeof(zero)) }

// Put writes in little-endian.
func (c UintCodec[I]) Put(dst []byte, in I) {
	v := uint64(in)
	for i := range c.Size() {
		dst[i] = byte(v >> (8 * i))
	}
}

// Get reads a little-endian value; every bit pattern is valid.
func (c UintCodec[I]) Get(src []byte) (I, error) {
	n := c.Size()
	if len(src) != n {
		return 0, fmt.Errorf("rollback: input is %d bytes, want %d: %w", len(src), n, ErrBadInput)
	}
	var v uint64
	for i := range n {
		v |= uint64(src[i]) << (8 * i)
	}
	return I(v), nil
}
