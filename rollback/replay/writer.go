package replay

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"slices"

	"github.com/lynnet/lyn/rollback"
)

// Writer records a session to an io.Writer. It implements rollback.Recorder:
// set it as Config.Recorder, or call RecordFrame and RecordChecksum yourself.
//
// Like bufio.Writer it keeps the first error it meets (from the io.Writer,
// or a frame out of sequence) and ignores everything after it; Err, Flush
// and Close return it. Frames are buffered in blocks of up to BlockFrames
// and each block is written with a single Write call, so steady-state
// recording does not allocate.
//
// A Writer is not safe for concurrent use; the session calls it from the
// game's goroutine.
type Writer[I comparable] struct {
	w       io.Writer
	codec   rollback.InputCodec[I]
	players int
	size    int
	maxN    int // frames per block
	err     error
	closed  bool

	next    rollback.Frame // next frame RecordFrame expects
	first   rollback.Frame // first frame of the open block
	n       int            // frames in the open block
	lastSum rollback.Frame // last frame given a checksum, or NoFrame

	sums  []byte // encoded checksum entries of the open block
	nsums int
	runs  []playerRuns
	enc   []byte // codec scratch, size bytes
	out   []byte // block being assembled
}

// playerRuns is one player's run-length encoding within the open block.
type playerRuns struct {
	buf    []byte // closed runs: uvarint length, status, input bytes
	in     []byte // the open run's encoded input (size bytes)
	status rollback.InputStatus
	length int // frames in the open run; 0 if none
}

// NewWriter writes h to w and returns a Writer that records frames after it.
// h.Players is required; the zero value of every other field is a default
// (see Header). The codec's Size is recorded as the input size.
func NewWriter[I comparable](w io.Writer, codec rollback.InputCodec[I], h Header) (*Writer[I], error) {
	size := codec.Size()
	switch {
	case h.Version != 0 && h.Version != Version:
		return nil, fmt.Errorf("%w: version %d, this package writes %d", ErrInvalidHeader, h.Version, Version)
	case h.Players < 1 || h.Players > rollback.MaxPlayers:
		return nil, fmt.Errorf("%w: %d players, want 1 to %d", ErrInvalidHeader, h.Players, rollback.MaxPlayers)
	case size < 1 || size > 255:
		return nil, fmt.Errorf("%w: codec input size %d, want 1 to 255", ErrInvalidHeader, size)
	case h.InputSize != 0 && h.InputSize != size:
		return nil, fmt.Errorf("%w: input size %d but the codec's is %d", ErrInvalidHeader, h.InputSize, size)
	case h.FrameRate < 0 || h.FrameRate > MaxFrameRate:
		return nil, fmt.Errorf("%w: frame rate %d, want 1 to %d", ErrInvalidHeader, h.FrameRate, MaxFrameRate)
	case len(h.Metadata) > MaxMetadata:
		return nil, fmt.Errorf("%w: %d bytes of metadata, at most %d", ErrInvalidHeader, len(h.Metadata), MaxMetadata)
	}
	if h.FrameRate == 0 {
		h.FrameRate = rollback.DefaultFrameRate
	}
	// Frames per block: BlockFrames, unless even worst-case run encoding
	// (every input a new run) could then exceed MaxBlockBytes.
	perFrame := h.Players * (binary.MaxVarintLen32 + 1 + size)
	maxN := min(BlockFrames, (MaxBlockBytes-(BlockFrames+1)*sumMaxSize)/perFrame)

	wr := &Writer[I]{
		w: w, codec: codec, players: h.Players, size: size, maxN: maxN,
		lastSum: rollback.NoFrame,
		runs:    make([]playerRuns, h.Players),
		enc:     make([]byte, size),
	}
	ins := make([]byte, h.Players*size)
	for p := range wr.runs {
		wr.runs[p].in = ins[p*size : (p+1)*size : (p+1)*size]
	}

	hdr := make([]byte, 0, headerFixed+len(h.Metadata)+4)
	hdr = append(hdr, Magic...)
	hdr = binary.LittleEndian.AppendUint16(hdr, Version)
	hdr = append(hdr, byte(h.Players), byte(size))
	hdr = binary.LittleEndian.AppendUint16(hdr, uint16(h.FrameRate))
	hdr = binary.LittleEndian.AppendUint32(hdr, uint32(len(h.Metadata)))
	hdr = append(hdr, h.Metadata...)
	hdr = binary.LittleEndian.AppendUint32(hdr, crc(hdr))
	if _, err := w.Write(hdr); err != nil {
		return nil, fmt.Errorf("replay: writing header: %w", err)
	}
	return wr, nil
}

// RecordFrame records the inputs of frame, which must be the frame after the
// last one recorded (0 first), one input per player, each Confirmed or
// Disconnected. Otherwise it sets the Writer's sticky error.
func (w *Writer[I]) RecordFrame(frame rollback.Frame, inputs []rollback.PlayerInput[I]) {
	if w.err != nil {
		return
	}
	if w.closed {
		w.err = fmt.Errorf("replay: RecordFrame(%d): %w", frame, ErrClosed)
		return
	}
	if frame != w.next {
		w.err = fmt.Errorf("%w: RecordFrame(%d), want frame %d", ErrSequence, frame, w.next)
		return
	}
	if frame == math.MaxInt32 {
		w.err = fmt.Errorf("%w: RecordFrame(%d): frame numbers exhausted", ErrSequence, frame)
		return
	}
	if len(inputs) != w.players {
		w.err = fmt.Errorf("%w: frame %d has %d inputs, want %d (one per player)", ErrInvalidFrame, frame, len(inputs), w.players)
		return
	}
	for p := range inputs {
		if !validInputStatus(inputs[p].Status) {
			w.err = fmt.Errorf("%w: frame %d: player %d's input is %v; only confirmed inputs are recorded", ErrInvalidFrame, frame, p, inputs[p].Status)
			return
		}
	}
	if w.n == w.maxN {
		w.writeBlock()
		if w.err != nil {
			return
		}
	}
	for p := range inputs {
		r := &w.runs[p]
		w.codec.Put(w.enc, inputs[p].Input)
		if r.length > 0 && r.status == inputs[p].Status && bytes.Equal(r.in, w.enc) {
			r.length++
			continue
		}
		r.close()
		copy(r.in, w.enc)
		r.status = inputs[p].Status
		r.length = 1
	}
	w.n++
	w.next++
}

func (r *playerRuns) close() {
	if r.length == 0 {
		return
	}
	r.buf = binary.AppendUvarint(r.buf, uint64(r.length))
	r.buf = append(r.buf, byte(r.status))
	r.buf = append(r.buf, r.in...)
	r.length = 0
}

// RecordChecksum records the checksum of the state at frame, that is after
// frames 0 to frame-1 were advanced and before frame's inputs are applied.
// The session calls it once the state at frame is confirmed: after
// RecordFrame(frame-1); calling it after RecordFrame(frame) is accepted too,
// as long as no block boundary (BlockFrames frames, or a Flush) lies between
// frame and the last frame recorded. Checksum frames must increase.
func (w *Writer[I]) RecordChecksum(frame rollback.Frame, checksum uint64) {
	if w.err != nil {
		return
	}
	if w.closed {
		w.err = fmt.Errorf("replay: RecordChecksum(%d): %w", frame, ErrClosed)
		return
	}
	switch {
	case frame <= w.lastSum:
		w.err = fmt.Errorf("%w: RecordChecksum(%d) after a checksum for frame %d", ErrSequence, frame, w.lastSum)
		return
	case frame > w.next:
		w.err = fmt.Errorf("%w: RecordChecksum(%d) but only frames before %d were recorded", ErrSequence, frame, w.next)
		return
	case frame < w.first:
		w.err = fmt.Errorf("%w: RecordChecksum(%d) after frames up to %d were written out", ErrSequence, frame, w.first-1)
		return
	}
	w.sums = binary.AppendUvarint(w.sums, uint64(frame-w.first))
	w.sums = binary.LittleEndian.AppendUint64(w.sums, checksum)
	w.nsums++
	w.lastSum = frame
}

// writeBlock writes the open block, if it holds anything, and opens the
// next one.
func (w *Writer[I]) writeBlock() {
	if w.n == 0 && w.nsums == 0 {
		return
	}
	out := slices.Grow(w.out[:0], blockHeadSize)[:blockHeadSize]
	out = append(out, w.sums...)
	for p := range w.runs {
		r := &w.runs[p]
		r.close()
		out = append(out, r.buf...)
		r.buf = r.buf[:0]
	}
	payload := out[blockHeadSize:]
	h := out[:0:blockHeadSize]
	h = append(h, kindBlock)
	h = binary.LittleEndian.AppendUint32(h, uint32(w.first))
	h = binary.LittleEndian.AppendUint16(h, uint16(w.n))
	h = binary.LittleEndian.AppendUint16(h, uint16(w.nsums))
	h = binary.LittleEndian.AppendUint32(h, uint32(len(payload)))
	h = binary.LittleEndian.AppendUint32(h, crc(payload))
	binary.LittleEndian.AppendUint32(h, crc(h))
	w.out = out
	w.first += rollback.Frame(w.n)
	w.n = 0
	w.sums = w.sums[:0]
	w.nsums = 0
	if _, err := w.w.Write(out); err != nil {
		w.err = fmt.Errorf("replay: writing frames from %d: %w", w.first, err)
	}
}

// Err returns the first error the Writer met, or nil.
func (w *Writer[I]) Err() error { return w.err }

// Flush writes the frames and checksums recorded so far to the underlying
// io.Writer as a (possibly short) block and returns the sticky error. It
// does not flush or sync the io.Writer itself.
func (w *Writer[I]) Flush() error {
	if w.err == nil && !w.closed {
		w.writeBlock()
	}
	return w.err
}

// Close writes the remaining frames and the end record, which marks the
// replay as complete (a replay without it reads as truncated). It does not
// close the underlying io.Writer. It returns the sticky error; after Close
// every Record call sets ErrClosed.
func (w *Writer[I]) Close() error {
	if w.err != nil || w.closed {
		return w.err
	}
	w.writeBlock()
	w.closed = true
	if w.err != nil {
		return w.err
	}
	end := append(w.out[:0], kindEnd)
	end = binary.LittleEndian.AppendUint32(end, uint32(w.next))
	end = binary.LittleEndian.AppendUint32(end, crc(end))
	w.out = end
	if _, err := w.w.Write(end); err != nil {
		w.err = fmt.Errorf("replay: writing end record: %w", err)
	}
	return w.err
}

var _ rollback.Recorder[uint8] = (*Writer[uint8])(nil)
