package replay

import (
	"errors"
	"fmt"

	"github.com/lynnet/lyn/rollback"
)

var (
	// ErrNotReplay: the bytes do not start with the replay magic.
	ErrNotReplay = errors.New("replay: not a lyn replay (bad magic)")
	// ErrVersion: the file is a replay in a format version this package
	// cannot read (usually one written by a newer lyn).
	ErrVersion = errors.New("replay: unsupported format version")
	// ErrCorrupt is wrapped by every *CorruptError: a checksum does not
	// match, a length is out of its documented bounds, the file ends early…
	ErrCorrupt = errors.New("replay: corrupt replay")
	// ErrTruncated is wrapped (with ErrCorrupt) by a *CorruptError when the
	// file ends before its end record.
	ErrTruncated = errors.New("replay: truncated replay")
	// ErrInputSize: the replay's input size differs from the codec's, so the
	// replay was recorded with another input type.
	ErrInputSize = errors.New("replay: input size differs from the codec's")
	// ErrInvalidHeader wraps every problem NewWriter finds in a Header.
	ErrInvalidHeader = errors.New("replay: invalid header")
	// ErrSequence is the Writer's sticky error when frames are not recorded
	// in order from 0 without gaps, or a checksum comes out of order.
	ErrSequence = errors.New("replay: frame or checksum recorded out of sequence")
	// ErrInvalidFrame is the Writer's sticky error when RecordFrame gets a
	// number of inputs other than Header.Players, or a Predicted input.
	ErrInvalidFrame = errors.New("replay: invalid frame recorded")
	// ErrClosed is the Writer's sticky error for a call after Close.
	ErrClosed = errors.New("replay: writer closed")
)

// CorruptError says where a replay is damaged. It wraps ErrCorrupt (and
// Err, when there is an underlying cause such as ErrTruncated or a codec's
// error).
type CorruptError struct {
	// Frame is the first frame of the damaged block, or the first frame the
	// damaged record should have started with, or rollback.NoFrame (-1)
	// when the damage is in the file header.
	Frame rollback.Frame
	// Offset is the byte offset in the file of the damaged record (of the
	// out-of-bounds field, for a header field; of the end of the file, when
	// it is truncated).
	Offset int64
	// Reason says what is wrong, in words.
	Reason string
	// Err is the underlying cause, if any.
	Err error
}

func (e *CorruptError) Error() string {
	what, cause := "corrupt", e.Err
	if errors.Is(e.Err, ErrTruncated) {
		what, cause = "truncated", nil
	}
	where := "header"
	if e.Frame != rollback.NoFrame {
		where = fmt.Sprintf("block starting at frame %d", e.Frame)
	}
	msg := fmt.Sprintf("replay: %s replay: %s, byte %d: %s", what, where, e.Offset, e.Reason)
	if cause != nil {
		msg += ": " + cause.Error()
	}
	return msg
}

// Unwrap returns ErrCorrupt and Err (if set), for errors.Is and errors.As.
func (e *CorruptError) Unwrap() []error {
	if e.Err != nil {
		return []error{ErrCorrupt, e.Err}
	}
	return []error{ErrCorrupt}
}

// MismatchError is what Play returns at the first recorded checksum that the
// replayed game does not reproduce: the game is not deterministic, or it is
// another version of the game than the one recorded.
type MismatchError struct {
	Frame    rollback.Frame // the state at Frame (before its inputs) differs
	Recorded uint64         // checksum in the replay
	Replayed uint64         // checksum of the replayed game's state
}

func (e *MismatchError) Error() string {
	return fmt.Sprintf("replay: state at frame %d differs from the recording: recorded checksum %016x, replayed %016x",
		e.Frame, e.Recorded, e.Replayed)
}
