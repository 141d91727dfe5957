package replay

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/lynnet/lyn/rollback"
)

// strictCodec is a 2-byte codec that, like a careful game's, rejects
// encodings it would never produce (bit 15 set).
type strictCodec struct{}

func (strictCodec) Size() int { return 2 }
func (strictCodec) Put(dst []byte, in uint16) {
	dst[0], dst[1] = byte(in), byte(in>>8)
}
func (strictCodec) Get(src []byte) (uint16, error) {
	if len(src) != 2 || src[1]&0x80 != 0 {
		return 0, fmt.Errorf("strictCodec: %x: %w", src, rollback.ErrBadInput)
	}
	return uint16(src[0]) | uint16(src[1])<<8, nil
}

// fuzzSeed records a short, varied replay for the seed corpus.
func fuzzSeed(t testing.TB, frames int, flushEvery int) []byte {
	var buf bytes.Buffer
	w, err := NewWriter[uint16](&buf, strictCodec{}, Header{Players: 2, Metadata: []byte("seed")})
	if err != nil {
		t.Fatal(err)
	}
	in := make([]rollback.PlayerInput[uint16], 2)
	for f := range rollback.Frame(frames) {
		if f%7 == 0 {
			w.RecordChecksum(f, uint64(f)*0x9e3779b97f4a7c15)
		}
		in[0].Input = uint16(f / 5)
		in[1].Input = uint16(f / 3 % 4)
		if f > rollback.Frame(frames)*3/4 {
			in[1] = rollback.PlayerInput[uint16]{Status: rollback.Disconnected}
		}
		w.RecordFrame(f, in)
		if flushEvery > 0 && int(f)%flushEvery == 0 {
			w.Flush()
		}
	}
	w.RecordChecksum(rollback.Frame(frames), 1)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// FuzzReader reads arbitrary bytes: it must never panic, must fail only
// with the package's errors, and must never hold much more memory than the
// file's size.
func FuzzReader(f *testing.F) {
	f.Add(fuzzSeed(f, 40, 0))
	f.Add(fuzzSeed(f, 300, 0))
	f.Add(fuzzSeed(f, 50, 9))
	f.Add(fuzzSeed(f, 0, 0))
	s := fuzzSeed(f, 20, 0)
	f.Add(s[:len(s)/2])
	f.Add([]byte(Magic))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := NewReader[uint16](bytes.NewReader(data), strictCodec{})
		if err != nil {
			checkReadError(t, err)
			return
		}
		if len(r.h.Metadata) > MaxMetadata || len(r.h.Metadata) > len(data) {
			t.Fatalf("metadata of %d bytes from a %d-byte file", len(r.h.Metadata), len(data))
		}
		prev := rollback.NoFrame
		for {
			frame, inputs, err := r.Next()
			if c := cap(r.payload); c > 2*len(data)+readChunk {
				t.Fatalf("payload buffer of %d bytes for a %d-byte file", c, len(data))
			}
			if err == io.EOF {
				if _, _, err := r.Next(); err != io.EOF {
					t.Fatalf("Next after io.EOF: %v", err)
				}
				return
			}
			if err != nil {
				checkReadError(t, err)
				if _, _, err2 := r.Next(); err2 != err {
					t.Fatalf("error not sticky: %v then %v", err, err2)
				}
				return
			}
			if frame != prev+1 || len(inputs) != r.h.Players {
				t.Fatalf("frame %d after %d with %d inputs", frame, prev, len(inputs))
			}
			for _, in := range inputs {
				if !validInputStatus(in.Status) || in.Input&0x8000 != 0 {
					t.Fatalf("frame %d: invalid input %+v", frame, in)
				}
			}
			if cf, _, ok := r.Checksum(); ok && cf != frame {
				t.Fatalf("checksum of frame %d reported with frame %d", cf, frame)
			}
			prev = frame
		}
	})
}

func checkReadError(t *testing.T, err error) {
	t.Helper()
	for _, want := range []error{ErrNotReplay, ErrVersion, ErrInputSize} {
		if errors.Is(err, want) {
			return
		}
	}
	var ce *CorruptError
	if !errors.As(err, &ce) || !errors.Is(err, ErrCorrupt) {
		t.Fatalf("unexpected error %T: %v", err, err)
	}
	if ce.Offset < 0 || ce.Frame < rollback.NoFrame || ce.Reason == "" {
		t.Fatalf("bad CorruptError %+v", ce)
	}
}
