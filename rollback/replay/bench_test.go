package replay_test

import (
	"bytes"
	"io"
	"slices"
	"testing"

	"github.com/lynnet/lyn/rollback"
	"github.com/lynnet/lyn/rollback/replay"
)

type countingWriter struct{ n int64 }

func (c *countingWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

// typicalInputs returns frames of a typical 2-player match (see
// inputScript): 2-byte button inputs changing about every 12 frames.
func typicalInputs(frames int) [][]rollback.PlayerInput[Buttons] {
	s := newScript(2, 99)
	out := make([][]rollback.PlayerInput[Buttons], frames)
	for f := range out {
		out[f] = slices.Clone(s.frame(rollback.Frame(f)))
	}
	return out
}

// BenchmarkWriterRecordFrame records a typical 2-player match with a
// checksum every 30 frames and reports the replay's size per frame.
func BenchmarkWriterRecordFrame(b *testing.B) {
	inputs := typicalInputs(1 << 14)
	var cw countingWriter
	w, err := replay.NewWriter(&cw, codec, replay.Header{Players: 2})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	f := rollback.Frame(0)
	for b.Loop() {
		if f%30 == 0 && f > 0 {
			w.RecordChecksum(f, uint64(f)*0x9e3779b97f4a7c15)
		}
		w.RecordFrame(f, inputs[int(f)%len(inputs)])
		f++
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(cw.n)/float64(f), "bytes/frame")
}

// TestBytesPerFrame logs the size of an hour-long typical 2-player match
// (go test -v -run BytesPerFrame).
func TestBytesPerFrame(t *testing.T) {
	const frames = 60 * 60 * 60
	data := record(t, 2, frames, 30, newScript(2, 5))
	bpf := float64(len(data)) / frames
	t.Logf("2 players, 2-byte inputs changing every ~12 frames, checksum every 30 frames: %d bytes for %d frames = %.2f bytes/frame (%.0f KiB per hour at 60 fps)",
		len(data), frames, bpf, float64(len(data))/1024)
	if bpf > 4 {
		t.Errorf("%.2f bytes/frame: the run-length encoding is not working", bpf)
	}
}

func BenchmarkReaderNext(b *testing.B) {
	data := record(b, 2, 1<<16, 30, newScript(2, 5))
	b.ReportAllocs()
	var r *replay.Reader[Buttons]
	for b.Loop() {
		if r == nil {
			var err error
			if r, err = replay.NewReader(bytes.NewReader(data), codec); err != nil {
				b.Fatal(err)
			}
		}
		if _, _, err := r.Next(); err == io.EOF {
			r = nil
		} else if err != nil {
			b.Fatal(err)
		}
	}
}
