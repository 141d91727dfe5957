package replay

import (
	"io"

	"github.com/lynnet/lyn/rollback"
)

// Result says what Play did.
type Result struct {
	Header    Header
	Frames    int // frames advanced
	Checksums int // recorded checksums the replayed game reproduced
}

// Play replays a recording: it advances game, which must be in its initial
// state (the state at frame 0), with every recorded frame's inputs, and at
// every frame F with a recorded checksum compares it with
// rollback.ChecksumOf(game) of the state at F — after frames 0 to F-1, before
// F's inputs; a checksum recorded for the frame after the last is compared
// with the final state. It stops at the first difference with a
// *MismatchError, and at the first damaged block with a *CorruptError
// (after advancing every frame before that block). The Result counts what
// was done either way.
func Play[I comparable](r io.Reader, codec rollback.InputCodec[I], game rollback.Game[I]) (Result, error) {
	rd, err := NewReader(r, codec)
	if err != nil {
		return Result{}, err
	}
	res := Result{Header: rd.Header()}
	var scratch []byte
	verify := func() error {
		frame, want, ok := rd.Checksum()
		if !ok {
			return nil
		}
		var got uint64
		got, scratch = rollback.ChecksumOf(game, scratch)
		if got != want {
			return &MismatchError{Frame: frame, Recorded: want, Replayed: got}
		}
		res.Checksums++
		return nil
	}
	for {
		_, inputs, err := rd.Next()
		if err == io.EOF {
			return res, verify()
		}
		if err != nil {
			return res, err
		}
		if err := verify(); err != nil {
			return res, err
		}
		game.Advance(inputs)
		res.Frames++
	}
}
