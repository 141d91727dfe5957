package replay

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"slices"

	"github.com/lynnet/lyn/rollback"
)

// readChunk is how much a Reader allocates ahead of the bytes it actually
// received: a short file that claims a long record costs at most this much.
const readChunk = 64 << 10

// Reader reads a replay frame by frame. Every block is checked (CRC-32C,
// bounds, structure) before any of its frames is returned, so a Reader
// never returns inputs from a damaged block.
type Reader[I comparable] struct {
	br    *bufio.Reader
	codec rollback.InputCodec[I]
	h     Header
	off   int64 // bytes consumed from br
	err   error // sticky; io.EOF after the end record
	done  bool  // end record read

	next    rollback.Frame // frame the next block must start with
	lastSum rollback.Frame

	// open block
	first   rollback.Frame
	n, i    int // frames in the block, frames returned from it
	payload []byte
	pos     []runCursor
	inputs  []rollback.PlayerInput[I]

	sums    []sumEntry // checksums not yet reported, in frame order
	cur     sumEntry   // checksum reported by Checksum
	curOK   bool
	blockAt int64 // offset of the open block
}

type sumEntry struct {
	frame rollback.Frame
	sum   uint64
}

type runCursor struct {
	off  int // next run's offset in payload
	left int // frames left in the current run
}

// NewReader reads and checks the header of a replay recorded with an input
// codec of the same size as codec.
func NewReader[I comparable](r io.Reader, codec rollback.InputCodec[I]) (*Reader[I], error) {
	rd := &Reader[I]{br: bufio.NewReader(r), codec: codec, lastSum: rollback.NoFrame}
	if err := rd.readHeader(); err != nil {
		return nil, err
	}
	rd.pos = make([]runCursor, rd.h.Players)
	rd.inputs = make([]rollback.PlayerInput[I], rd.h.Players)
	return rd, nil
}

func (r *Reader[I]) corrupt(frame rollback.Frame, off int64, err error, format string, args ...any) error {
	return &CorruptError{Frame: frame, Offset: off, Reason: fmt.Sprintf(format, args...), Err: err}
}

// read reads exactly n bytes into buf[:0] (reusing it), growing it only as
// bytes actually arrive. A short read is a truncation error.
func (r *Reader[I]) read(buf []byte, n int, frame rollback.Frame, what string) ([]byte, error) {
	buf = buf[:0]
	for len(buf) < n {
		chunk := min(n-len(buf), readChunk)
		buf = slices.Grow(buf, chunk)
		m, err := io.ReadFull(r.br, buf[len(buf):len(buf)+chunk])
		buf = buf[:len(buf)+m]
		r.off += int64(m)
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return buf, r.corrupt(frame, r.off, ErrTruncated, "file ends inside the %s (%d of %d bytes)", what, len(buf), n)
			}
			return buf, fmt.Errorf("replay: reading %s at byte %d: %w", what, r.off, err)
		}
	}
	return buf, nil
}

func (r *Reader[I]) readHeader() error {
	var fixed [headerFixed]byte
	n, err := io.ReadFull(r.br, fixed[:])
	r.off += int64(n)
	if n < len(Magic) || string(fixed[:len(Magic)]) != Magic {
		if n < len(Magic) && string(fixed[:n]) == Magic[:n] && err != nil {
			if n == 0 {
				return fmt.Errorf("%w: empty file", ErrNotReplay)
			}
			return r.corrupt(rollback.NoFrame, r.off, ErrTruncated, "file ends inside the magic")
		}
		if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
			return fmt.Errorf("replay: reading header: %w", err)
		}
		return fmt.Errorf("%w: starts with %q, want %q", ErrNotReplay, fixed[:min(n, len(Magic))], Magic)
	}
	if n >= len(Magic)+2 {
		if v := binary.LittleEndian.Uint16(fixed[len(Magic):]); v != Version {
			return fmt.Errorf("%w: version %d, this package reads version %d", ErrVersion, v, Version)
		}
	}
	if err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return r.corrupt(rollback.NoFrame, r.off, ErrTruncated, "file ends inside the header (%d of %d bytes)", n, headerFixed)
		}
		return fmt.Errorf("replay: reading header: %w", err)
	}
	h := Header{
		Version:   Version,
		Players:   int(fixed[10]),
		InputSize: int(fixed[11]),
		FrameRate: int(binary.LittleEndian.Uint16(fixed[12:])),
	}
	metaLen := binary.LittleEndian.Uint32(fixed[14:])
	// Check bounds before reading metadata; a bad CRC is reported over
	// these only if they are in bounds (a flipped length byte usually
	// isn't, and is then reported as such).
	switch {
	case metaLen > MaxMetadata:
		return r.corrupt(rollback.NoFrame, 14, nil, "metadata length %d exceeds %d", metaLen, MaxMetadata)
	case h.Players < 1 || h.Players > rollback.MaxPlayers:
		return r.corrupt(rollback.NoFrame, 10, nil, "%d players, want 1 to %d", h.Players, rollback.MaxPlayers)
	case h.InputSize < 1:
		return r.corrupt(rollback.NoFrame, 11, nil, "input size 0")
	case h.FrameRate < 1 || h.FrameRate > MaxFrameRate:
		return r.corrupt(rollback.NoFrame, 12, nil, "frame rate %d, want 1 to %d", h.FrameRate, MaxFrameRate)
	}
	// metadata + CRC
	rest, err := r.read(nil, int(metaLen)+4, rollback.NoFrame, "header")
	if err != nil {
		return err
	}
	sum := crc(fixed[:])
	sum = crc32.Update(sum, castagnoli, rest[:metaLen])
	if got := binary.LittleEndian.Uint32(rest[metaLen:]); got != sum {
		return r.corrupt(rollback.NoFrame, 0, nil, "header CRC-32C is %08x, want %08x", got, sum)
	}
	if metaLen > 0 {
		h.Metadata = rest[:metaLen:metaLen]
	}
	if size := r.codec.Size(); h.InputSize != size {
		return fmt.Errorf("%w: the replay's inputs are %d bytes, the codec's %d", ErrInputSize, h.InputSize, size)
	}
	r.h = h
	return nil
}

// Header returns the replay's header. Its Metadata is the Reader's own copy;
// the caller may keep it.
func (r *Reader[I]) Header() Header { return r.h }

// Next returns the next frame and its inputs, one per player. The inputs
// slice is owned by the Reader and valid until the next call. After the last
// frame Next returns io.EOF; a replay that ends without its end record (its
// writer was not closed) gives an error wrapping ErrTruncated instead. Any
// error is sticky.
//
// After each call, Checksum reports the recorded checksum of the state at
// the frame returned (before its inputs), if there is one; after io.EOF, the
// checksum of the final state.
func (r *Reader[I]) Next() (frame rollback.Frame, inputs []rollback.PlayerInput[I], err error) {
	r.curOK = false
	if r.err != nil {
		return 0, nil, r.err
	}
	for r.i >= r.n {
		if r.done {
			r.err = io.EOF
			r.takeSum(r.next)
			return 0, nil, io.EOF
		}
		if err := r.readRecord(); err != nil {
			r.err = err
			return 0, nil, err
		}
	}
	frame = r.first + rollback.Frame(r.i)
	for p := range r.pos {
		c := &r.pos[p]
		if c.left == 0 {
			// Validated by readRecord: cannot fail.
			l, k := binary.Uvarint(r.payload[c.off:])
			c.off += k
			in, _ := r.codec.Get(r.payload[c.off+1 : c.off+1+r.h.InputSize])
			r.inputs[p] = rollback.PlayerInput[I]{Input: in, Status: rollback.InputStatus(r.payload[c.off])}
			c.off += 1 + r.h.InputSize
			c.left = int(l)
		}
		c.left--
	}
	r.i++
	r.takeSum(frame)
	return frame, r.inputs, nil
}

// takeSum makes the checksum of frame, if recorded, the one Checksum
// reports.
func (r *Reader[I]) takeSum(frame rollback.Frame) {
	if len(r.sums) > 0 && r.sums[0].frame == frame {
		r.cur, r.curOK = r.sums[0], true
		r.sums = r.sums[:copy(r.sums, r.sums[1:])]
	}
}

// Checksum returns the recorded checksum of the state at the frame Next
// just returned (the state before that frame's inputs are applied), or,
// after Next returned io.EOF, of the state after the last frame; ok is
// false if none was recorded for that frame.
func (r *Reader[I]) Checksum() (frame rollback.Frame, sum uint64, ok bool) {
	return r.cur.frame, r.cur.sum, r.curOK
}

// readRecord reads and validates the next record.
func (r *Reader[I]) readRecord() error {
	at := r.off
	var head [blockHeadSize]byte
	n, err := io.ReadFull(r.br, head[:1])
	r.off += int64(n)
	if err != nil {
		if errors.Is(err, io.EOF) {
			return r.corrupt(r.next, at, ErrTruncated, "file ends after %d frames without an end record (writer not closed?)", r.next)
		}
		return fmt.Errorf("replay: reading at byte %d: %w", at, err)
	}
	switch head[0] {
	case kindEnd:
		return r.readEnd(at, head[:endSize])
	case kindBlock:
	default:
		return r.corrupt(r.next, at, nil, "unknown record kind 0x%02x", head[0])
	}
	if _, err := r.read(head[1:1:blockHeadSize], blockHeadSize-1, r.next, "block header"); err != nil {
		return err
	}
	if got, want := binary.LittleEndian.Uint32(head[blockHeadSize-4:]), crc(head[:blockHeadSize-4]); got != want {
		return r.corrupt(r.next, at, nil, "block header CRC-32C is %08x, want %08x", got, want)
	}
	first := binary.LittleEndian.Uint32(head[1:])
	nframes := int(binary.LittleEndian.Uint16(head[5:]))
	nsums := int(binary.LittleEndian.Uint16(head[7:]))
	plen := binary.LittleEndian.Uint32(head[9:])
	pcrc := binary.LittleEndian.Uint32(head[13:])
	switch {
	case first != uint32(r.next):
		return r.corrupt(r.next, at, nil, "block starts at frame %d, want %d", first, r.next)
	case uint64(first)+uint64(nframes) > 1<<31-1:
		return r.corrupt(r.next, at, nil, "block of %d frames overflows frame numbers", nframes)
	case nframes > MaxBlockFrames:
		return r.corrupt(r.next, at, nil, "block of %d frames, at most %d", nframes, MaxBlockFrames)
	case nframes == 0 && nsums == 0:
		return r.corrupt(r.next, at, nil, "empty block")
	case nsums > nframes+1:
		return r.corrupt(r.next, at, nil, "%d checksums for %d frames", nsums, nframes)
	case plen > MaxBlockBytes:
		return r.corrupt(r.next, at, nil, "block payload of %d bytes exceeds %d", plen, MaxBlockBytes)
	}
	r.blockAt = at
	payload, err := r.read(r.payload, int(plen), r.next, fmt.Sprintf("block of frames %d to %d", first, int(first)+nframes-1))
	r.payload = payload
	if err != nil {
		return err
	}
	if got := crc(payload); got != pcrc {
		return r.corrupt(r.next, at, nil, "block payload (frames %d to %d) CRC-32C is %08x, want %08x", first, int(first)+nframes-1, got, pcrc)
	}
	if err := r.parseBlock(rollback.Frame(first), nframes, nsums, at); err != nil {
		return err
	}
	r.first, r.n, r.i = rollback.Frame(first), nframes, 0
	r.next = r.first + rollback.Frame(nframes)
	return nil
}

// parseBlock checks the structure of a block's payload (whose CRC matched)
// and sets up the checksums and run cursors.
func (r *Reader[I]) parseBlock(first rollback.Frame, nframes, nsums int, at int64) error {
	p := r.payload
	bad := func(err error, format string, args ...any) error {
		return r.corrupt(first, at, err, format, args...)
	}
	off := 0
	// r.sums may still hold the checksum of the state at first, recorded
	// at the end of the previous block; this block's come after it.
	for range nsums {
		d, k := binary.Uvarint(p[off:])
		if k <= 0 || d > uint64(nframes) {
			return bad(nil, "bad checksum frame offset at payload byte %d", off)
		}
		off += k
		if len(p)-off < 8 {
			return bad(nil, "payload ends inside a checksum")
		}
		f := first + rollback.Frame(d)
		if f <= r.lastSum {
			return bad(nil, "checksum for frame %d after one for frame %d", f, r.lastSum)
		}
		r.lastSum = f
		r.sums = append(r.sums, sumEntry{f, binary.LittleEndian.Uint64(p[off:])})
		off += 8
	}
	size := r.h.InputSize
	for pl := range r.pos {
		r.pos[pl] = runCursor{off: off}
		for frames := 0; frames < nframes; {
			if off == len(p) {
				return bad(nil, "payload ends inside player %d's runs (%d of %d frames)", pl, frames, nframes)
			}
			l, k := binary.Uvarint(p[off:])
			if k <= 0 || l == 0 || l > uint64(nframes-frames) {
				return bad(nil, "player %d: bad run length at payload byte %d", pl, off)
			}
			off += k
			if len(p)-off < 1+size {
				return bad(nil, "player %d: payload ends inside an input", pl)
			}
			if s := rollback.InputStatus(p[off]); !validInputStatus(s) {
				return bad(nil, "player %d, frame %d: input status %d", pl, int(first)+frames, p[off])
			}
			if _, err := r.codec.Get(p[off+1 : off+1+size]); err != nil {
				return bad(err, "player %d, frame %d: input does not decode", pl, int(first)+frames)
			}
			off += 1 + size
			frames += int(l)
		}
	}
	if off != len(p) {
		return bad(nil, "%d stray bytes at the end of the payload", len(p)-off)
	}
	return nil
}

func (r *Reader[I]) readEnd(at int64, rec []byte) error {
	if _, err := r.read(rec[1:1:endSize], endSize-1, r.next, "end record"); err != nil {
		return err
	}
	if got, want := binary.LittleEndian.Uint32(rec[5:]), crc(rec[:5]); got != want {
		return r.corrupt(r.next, at, nil, "end record CRC-32C is %08x, want %08x", got, want)
	}
	if total := binary.LittleEndian.Uint32(rec[1:]); total != uint32(r.next) {
		return r.corrupt(r.next, at, nil, "end record says %d frames, the blocks hold %d", total, r.next)
	}
	if _, err := r.br.ReadByte(); err == nil {
		return r.corrupt(r.next, r.off, nil, "bytes after the end record")
	} else if !errors.Is(err, io.EOF) {
		return fmt.Errorf("replay: reading at byte %d: %w", r.off, err)
	}
	r.done = true
	r.first, r.n, r.i = r.next, 0, 0
	return nil
}
