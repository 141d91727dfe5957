package wire

import (
	"encoding/binary"
	"math"
)

// This file writes and reads the small subset of msgpack the wire format
// uses, by hand, so that encoding and decoding allocate nothing. Writers
// always use the shortest form; readers accept every form of a type
// (any int format for an int, float 32 or 64 for a float), as the spec
// allows other encoders to choose.

func appendUint(b []byte, v uint64) []byte {
	switch {
	case v <= 0x7f:
		return append(b, byte(v))
	case v <= math.MaxUint8:
		return append(b, 0xcc, byte(v))
	case v <= math.MaxUint16:
		return binary.BigEndian.AppendUint16(append(b, 0xcd), uint16(v))
	case v <= math.MaxUint32:
		return binary.BigEndian.AppendUint32(append(b, 0xce), uint32(v))
	}
	return binary.BigEndian.AppendUint64(append(b, 0xcf), v)
}

func appendInt(b []byte, v int64) []byte {
	switch {
	case v >= 0:
		return appendUint(b, uint64(v))
	case v >= -32:
		return append(b, byte(v))
	case v >= math.MinInt8:
		return append(b, 0xd0, byte(v))
	case v >= math.MinInt16:
		return binary.BigEndian.AppendUint16(append(b, 0xd1), uint16(v))
	case v >= math.MinInt32:
		return binary.BigEndian.AppendUint32(append(b, 0xd2), uint32(v))
	}
	return binary.BigEndian.AppendUint64(append(b, 0xd3), uint64(v))
}

func sizeUint(v uint64) int {
	switch {
	case v <= 0x7f:
		return 1
	case v <= math.MaxUint8:
		return 2
	case v <= math.MaxUint16:
		return 3
	case v <= math.MaxUint32:
		return 5
	}
	return 9
}

func sizeInt(v int64) int {
	switch {
	case v >= 0:
		return sizeUint(uint64(v))
	case v >= -32:
		return 1
	case v >= math.MinInt8:
		return 2
	case v >= math.MinInt16:
		return 3
	case v >= math.MinInt32:
		return 5
	}
	return 9
}

func appendArrayHeader(b []byte, n int) []byte {
	switch {
	case n <= 15:
		return append(b, 0x90|byte(n))
	case n <= math.MaxUint16:
		return binary.BigEndian.AppendUint16(append(b, 0xdc), uint16(n))
	}
	return binary.BigEndian.AppendUint32(append(b, 0xdd), uint32(n))
}

func sizeArrayHeader(n int) int {
	switch {
	case n <= 15:
		return 1
	case n <= math.MaxUint16:
		return 3
	}
	return 5
}

func appendBinHeader(b []byte, n int) []byte {
	switch {
	case n <= math.MaxUint8:
		return append(b, 0xc4, byte(n))
	case n <= math.MaxUint16:
		return binary.BigEndian.AppendUint16(append(b, 0xc5), uint16(n))
	}
	return binary.BigEndian.AppendUint32(append(b, 0xc6), uint32(n))
}

func sizeBinHeader(n int) int {
	switch {
	case n <= math.MaxUint8:
		return 2
	case n <= math.MaxUint16:
		return 3
	}
	return 5
}

func appendStr(b []byte, s string) []byte {
	n := len(s)
	switch {
	case n <= 31:
		b = append(b, 0xa0|byte(n))
	case n <= math.MaxUint8:
		b = append(b, 0xd9, byte(n))
	case n <= math.MaxUint16:
		b = binary.BigEndian.AppendUint16(append(b, 0xda), uint16(n))
	default:
		b = binary.BigEndian.AppendUint32(append(b, 0xdb), uint32(n))
	}
	return append(b, s...)
}

func appendFloat32(b []byte, f float32) []byte {
	return binary.BigEndian.AppendUint32(append(b, 0xca), math.Float32bits(f))
}

func appendBool(b []byte, v bool) []byte {
	if v {
		return append(b, 0xc3)
	}
	return append(b, 0xc2)
}

// reader reads msgpack values from a byte slice. The first error sticks:
// later reads return zero values, so decoders check r.err once per field
// group. Errors are plain values until the end, where the decoder wraps
// them; no read allocates.
type reader struct {
	b   []byte
	off int
	err error
	// what describes the first failure (for the wrapped error).
	what string
}

var errShort = malformedConst("truncated")

type malformedConst string

func (e malformedConst) Error() string { return string(e) }

func (r *reader) fail(what string) {
	if r.err == nil {
		r.err, r.what = errShort, what
	}
}

func (r *reader) need(n int, what string) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || len(r.b)-r.off < n {
		r.fail(what + ": truncated")
		return nil
	}
	s := r.b[r.off : r.off+n : r.off+n]
	r.off += n
	return s
}

func (r *reader) byte1(what string) byte {
	s := r.need(1, what)
	if s == nil {
		return 0
	}
	return s[0]
}

// arrayLen reads an array header.
func (r *reader) arrayLen(what string) int {
	c := r.byte1(what)
	if r.err != nil {
		return 0
	}
	switch {
	case c&0xf0 == 0x90:
		return int(c & 0x0f)
	case c == 0xdc:
		s := r.need(2, what)
		if s == nil {
			return 0
		}
		return int(binary.BigEndian.Uint16(s))
	case c == 0xdd:
		s := r.need(4, what)
		if s == nil {
			return 0
		}
		v := binary.BigEndian.Uint32(s)
		if v > math.MaxInt32 {
			r.fail(what + ": array too long")
			return 0
		}
		return int(v)
	}
	r.fail(what + ": not an array")
	return 0
}

// int reads any msgpack integer as an int64; a uint64 above MaxInt64 fails.
func (r *reader) int(what string) int64 {
	c := r.byte1(what)
	if r.err != nil {
		return 0
	}
	switch {
	case c <= 0x7f:
		return int64(c)
	case c >= 0xe0:
		return int64(int8(c))
	}
	var n int
	switch c {
	case 0xcc, 0xd0:
		n = 1
	case 0xcd, 0xd1:
		n = 2
	case 0xce, 0xd2:
		n = 4
	case 0xcf, 0xd3:
		n = 8
	default:
		r.fail(what + ": not an integer")
		return 0
	}
	s := r.need(n, what)
	if s == nil {
		return 0
	}
	switch c {
	case 0xcc:
		return int64(s[0])
	case 0xcd:
		return int64(binary.BigEndian.Uint16(s))
	case 0xce:
		return int64(binary.BigEndian.Uint32(s))
	case 0xcf:
		v := binary.BigEndian.Uint64(s)
		if v > math.MaxInt64 {
			r.fail(what + ": integer out of range")
			return 0
		}
		return int64(v)
	case 0xd0:
		return int64(int8(s[0]))
	case 0xd1:
		return int64(int16(binary.BigEndian.Uint16(s)))
	case 0xd2:
		return int64(int32(binary.BigEndian.Uint32(s)))
	}
	return int64(binary.BigEndian.Uint64(s))
}

// uint64 reads any msgpack integer that is ≥ 0 as a uint64 (the full
// uint64 range, for checksums and fingerprints).
func (r *reader) uint64(what string) uint64 {
	if r.err == nil && r.off < len(r.b) && r.b[r.off] == 0xcf {
		s := r.need(9, what)
		if s == nil {
			return 0
		}
		return binary.BigEndian.Uint64(s[1:])
	}
	v := r.int(what)
	if v < 0 {
		r.fail(what + ": negative")
		return 0
	}
	return uint64(v)
}

// intRange reads an integer and checks lo ≤ v ≤ hi.
func (r *reader) intRange(what string, lo, hi int64) int64 {
	v := r.int(what)
	if r.err == nil && (v < lo || v > hi) {
		r.fail(what + ": out of range")
		return 0
	}
	return v
}

// float32 reads a msgpack float 32, or a float 64 converted to float32.
func (r *reader) float32(what string) float32 {
	c := r.byte1(what)
	switch {
	case r.err != nil:
		return 0
	case c == 0xca:
		s := r.need(4, what)
		if s == nil {
			return 0
		}
		return math.Float32frombits(binary.BigEndian.Uint32(s))
	case c == 0xcb:
		s := r.need(8, what)
		if s == nil {
			return 0
		}
		return float32(math.Float64frombits(binary.BigEndian.Uint64(s)))
	}
	r.fail(what + ": not a float")
	return 0
}

func (r *reader) bool(what string) bool {
	c := r.byte1(what)
	switch {
	case r.err != nil:
		return false
	case c == 0xc2:
		return false
	case c == 0xc3:
		return true
	}
	r.fail(what + ": not a bool")
	return false
}

// bin reads a bin of at most max bytes and returns a slice of the packet.
func (r *reader) bin(what string, max int) []byte {
	c := r.byte1(what)
	if r.err != nil {
		return nil
	}
	var n int
	switch c {
	case 0xc4:
		n = int(r.byte1(what))
	case 0xc5:
		if s := r.need(2, what); s != nil {
			n = int(binary.BigEndian.Uint16(s))
		}
	case 0xc6:
		if s := r.need(4, what); s != nil {
			n = int(min(binary.BigEndian.Uint32(s), math.MaxInt32))
		}
	default:
		r.fail(what + ": not a bin")
		return nil
	}
	if r.err == nil && n > max {
		r.fail(what + ": too long")
		return nil
	}
	return r.need(n, what)
}

// str reads a str of at most max bytes and returns a slice of the packet.
func (r *reader) str(what string, max int) []byte {
	c := r.byte1(what)
	if r.err != nil {
		return nil
	}
	var n int
	switch {
	case c&0xe0 == 0xa0:
		n = int(c & 0x1f)
	case c == 0xd9:
		n = int(r.byte1(what))
	case c == 0xda:
		if s := r.need(2, what); s != nil {
			n = int(binary.BigEndian.Uint16(s))
		}
	case c == 0xdb:
		if s := r.need(4, what); s != nil {
			n = int(min(binary.BigEndian.Uint32(s), math.MaxInt32))
		}
	default:
		r.fail(what + ": not a str")
		return nil
	}
	if r.err == nil && n > max {
		r.fail(what + ": too long")
		return nil
	}
	return r.need(n, what)
}

// done reports an error if anything is left after the last field.
func (r *reader) done() {
	if r.err == nil && r.off != len(r.b) {
		r.fail("trailing bytes after the message")
	}
}

// group reads the header of an array that must have n elements.
func (r *reader) group(what string, n int) {
	if got := r.arrayLen(what); r.err == nil && got != n {
		r.fail(what + ": wrong number of elements")
	}
}
