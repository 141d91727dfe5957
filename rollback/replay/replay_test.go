package replay_test

import (
	"bytes"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/lynnet/lyn/rollback"
	"github.com/lynnet/lyn/rollback/replay"
)

var codec = rollback.UintCodec[Buttons]{}

type checksumAt struct {
	frame rollback.Frame
	sum   uint64
}

// readAll reads a whole replay into frames and checksums.
func readAll(t testing.TB, data []byte) (replay.Header, [][]rollback.PlayerInput[Buttons], []checksumAt, error) {
	t.Helper()
	r, err := replay.NewReader(bytes.NewReader(data), codec)
	if err != nil {
		return replay.Header{}, nil, nil, err
	}
	var frames [][]rollback.PlayerInput[Buttons]
	var sums []checksumAt
	for {
		f, in, err := r.Next()
		if cf, s, ok := r.Checksum(); ok {
			if err == nil && cf != f {
				t.Fatalf("Checksum() frame %d after Next() frame %d", cf, f)
			}
			sums = append(sums, checksumAt{cf, s})
		}
		if err == io.EOF {
			return r.Header(), frames, sums, nil
		}
		if err != nil {
			return r.Header(), frames, sums, err
		}
		if int(f) != len(frames) {
			t.Fatalf("Next() returned frame %d, want %d", f, len(frames))
		}
		frames = append(frames, slices.Clone(in))
	}
}

func TestRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name     string
		players  int
		frames   rollback.Frame
		interval int
		disc     rollback.Frame
	}{
		{"empty", 2, 0, 30, 0},
		{"one frame", 1, 1, 30, 0},
		{"two players", 2, 1000, 30, 0},
		{"disconnect", 3, 700, 7, 300},
		{"block boundary", 2, 2 * replay.BlockFrames, replay.BlockFrames, 0},
		{"every frame", 4, 600, 1, 0},
		{"max players", rollback.MaxPlayers, 300, 30, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			script := newScript(tc.players, 42)
			script.disconnectAt = tc.disc
			data := record(t, tc.players, tc.frames, tc.interval, script)

			// The expected stream, from the same script and game.
			script = newScript(tc.players, 42)
			script.disconnectAt = tc.disc
			g := newSumGame()
			var want [][]rollback.PlayerInput[Buttons]
			var wantSums []checksumAt
			for f := rollback.Frame(0); f <= tc.frames; f++ {
				if f == tc.frames || (f > 0 && int(f)%tc.interval == 0) {
					s, _ := rollback.ChecksumOf(g, nil)
					wantSums = append(wantSums, checksumAt{f, s})
				}
				if f == tc.frames {
					break
				}
				in := slices.Clone(script.frame(f))
				want = append(want, in)
				g.Advance(in)
			}

			h, got, gotSums, err := readAll(t, data)
			if err != nil {
				t.Fatal(err)
			}
			if h.Players != tc.players || h.InputSize != 2 || h.FrameRate != rollback.DefaultFrameRate || h.Version != replay.Version || string(h.Metadata) != "sumgame v1" {
				t.Errorf("header %+v", h)
			}
			if len(got) != len(want) {
				t.Fatalf("read %d frames, want %d", len(got), len(want))
			}
			for f := range want {
				if !slices.Equal(got[f], want[f]) {
					t.Fatalf("frame %d: read %v, want %v", f, got[f], want[f])
				}
			}
			if !slices.Equal(gotSums, wantSums) {
				t.Fatalf("checksums: read %v, want %v", gotSums, wantSums)
			}
		})
	}
}

func TestPlayVerifiesEveryChecksum(t *testing.T) {
	data := record(t, 2, 1000, 30, newScript(2, 7))
	res, err := replay.Play(bytes.NewReader(data), codec, newSumGame())
	if err != nil {
		t.Fatal(err)
	}
	// Checksums at 30, 60, …, 990 and the final state at 1000.
	if res.Frames != 1000 || res.Checksums != 34 || res.Header.Players != 2 {
		t.Fatalf("Play = %+v, want 1000 frames and 34 checksums", res)
	}
}

func TestPlayReportsFirstMismatch(t *testing.T) {
	data := record(t, 2, 1000, 30, newScript(2, 7))
	g := newSumGame()
	g.bugAt = 100 // advancing frame 100 goes wrong: the state at 101 differs
	res, err := replay.Play(bytes.NewReader(data), codec, g)
	var m *replay.MismatchError
	if !errors.As(err, &m) {
		t.Fatalf("Play error = %v, want a *MismatchError", err)
	}
	// The first checksum after the bug is the one of the state at 120.
	if m.Frame != 120 || m.Recorded == m.Replayed {
		t.Fatalf("mismatch %+v, want frame 120", m)
	}
	if res.Frames != 120 || res.Checksums != 3 {
		t.Fatalf("Result %+v, want 120 frames and 3 checksums (30, 60, 90)", res)
	}
	if !strings.Contains(err.Error(), "frame 120") {
		t.Errorf("error %q does not name the frame", err)
	}
}

func TestPlayChecksumAfterFrame(t *testing.T) {
	// A recorder driven the other way round (RecordChecksum(F) after
	// RecordFrame(F)) produces the same replay.
	var a, b bytes.Buffer
	wa, _ := replay.NewWriter(&a, codec, replay.Header{Players: 2})
	wb, _ := replay.NewWriter(&b, codec, replay.Header{Players: 2})
	script := newScript(2, 3)
	g := newSumGame()
	for f := rollback.Frame(0); f < 600; f++ {
		in := script.frame(f)
		if f%10 == 0 {
			s, _ := rollback.ChecksumOf(g, nil)
			wa.RecordChecksum(f, s)
			wa.RecordFrame(f, in)
			wb.RecordFrame(f, in)
			wb.RecordChecksum(f, s)
		} else {
			wa.RecordFrame(f, in)
			wb.RecordFrame(f, in)
		}
		g.Advance(in)
	}
	if err := errors.Join(wa.Close(), wb.Close()); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("checksum-before and checksum-after recordings differ")
	}
	res, err := replay.Play(&a, codec, newSumGame())
	if err != nil || res.Checksums != 60 {
		t.Fatalf("Play = %+v, %v; want 60 checksums", res, err)
	}
}

func TestCorruptByteNamesFrame(t *testing.T) {
	// Every single flipped byte, anywhere, is detected.
	small := record(t, 2, 600, 30, newScript(2, 7))
	for i := range small {
		bad := slices.Clone(small)
		bad[i] ^= 0x10
		_, err := replay.Play(bytes.NewReader(bad), codec, newSumGame())
		if err == nil {
			t.Fatalf("flipped byte %d: no error", i)
		}
		if errors.Is(err, replay.ErrNotReplay) || errors.Is(err, replay.ErrVersion) {
			if i >= 10 {
				t.Fatalf("flipped byte %d: %v", i, err)
			}
			continue
		}
		var ce *replay.CorruptError
		if !errors.As(err, &ce) || !errors.Is(err, replay.ErrCorrupt) {
			t.Fatalf("flipped byte %d: error %v is not a *CorruptError", i, err)
		}
	}

	// A byte in the middle: the error names the block's first frame and
	// its offset.
	data := record(t, 2, 1000, 30, newScript(2, 7))
	mid := len(data) / 2
	bad := slices.Clone(data)
	bad[mid] ^= 0xff
	res, err := replay.Play(bytes.NewReader(bad), codec, newSumGame())
	var ce *replay.CorruptError
	if !errors.As(err, &ce) {
		t.Fatalf("error %v is not a *CorruptError", err)
	}
	if ce.Frame <= 0 || ce.Frame%replay.BlockFrames != 0 || ce.Offset <= 0 || ce.Offset > int64(mid) {
		t.Fatalf("CorruptError %+v: want a block's first frame and an offset before %d", ce, mid)
	}
	if res.Frames != int(ce.Frame) {
		t.Errorf("played %d frames before the bad block of frame %d", res.Frames, ce.Frame)
	}
	t.Log(err)
}

func TestTruncated(t *testing.T) {
	data := record(t, 2, 1000, 30, newScript(2, 7))
	for _, n := range []int{4, 12, 20, 30, 40, 60, len(data) / 2, len(data) - 9, len(data) - 1} {
		_, err := replay.Play(bytes.NewReader(data[:n]), codec, newSumGame())
		if !errors.Is(err, replay.ErrTruncated) || !errors.Is(err, replay.ErrCorrupt) {
			t.Fatalf("truncated to %d bytes: error %v, want ErrTruncated", n, err)
		}
		var ce *replay.CorruptError
		if !errors.As(err, &ce) || ce.Offset != int64(n) && ce.Offset > int64(n) {
			t.Fatalf("truncated to %d bytes: %+v", n, ce)
		}
		if !strings.Contains(err.Error(), "ends") {
			t.Errorf("truncated to %d bytes: error %q", n, err)
		}
	}
	// Cut at a block boundary: there is no end record.
	var buf bytes.Buffer
	w, _ := replay.NewWriter(&buf, codec, replay.Header{Players: 2})
	script := newScript(2, 1)
	for f := range rollback.Frame(100) {
		w.RecordFrame(f, script.frame(f))
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	res, err := replay.Play(&buf, codec, newSumGame())
	if !errors.Is(err, replay.ErrTruncated) || res.Frames != 100 {
		t.Fatalf("unclosed replay: %+v, %v; want 100 frames then ErrTruncated", res, err)
	}
	t.Log(err)
}

func TestBadMagicAndVersion(t *testing.T) {
	data := record(t, 2, 10, 30, newScript(2, 7))
	for _, bad := range [][]byte{nil, []byte("hello"), []byte("GIF89a......................"), append([]byte("lynreply"), data[8:]...)} {
		if _, err := replay.NewReader(bytes.NewReader(bad), codec); !errors.Is(err, replay.ErrNotReplay) {
			t.Errorf("NewReader(%q) error %v, want ErrNotReplay", bad, err)
		}
	}
	future := slices.Clone(data)
	future[8] = 2
	_, err := replay.NewReader(bytes.NewReader(future), codec)
	if !errors.Is(err, replay.ErrVersion) || !strings.Contains(err.Error(), "version 2") {
		t.Errorf("future version: error %v, want ErrVersion naming it", err)
	}
	if _, err := replay.NewReader(bytes.NewReader(data), rollback.UintCodec[uint32]{}); !errors.Is(err, replay.ErrInputSize) {
		t.Errorf("other codec: error %v, want ErrInputSize", err)
	}
	if _, err := replay.NewReader(bytes.NewReader(append(slices.Clone(data), 0)), codec); err != nil {
		t.Fatal(err) // the header is fine
	}
	_, _, _, err = readAll(t, append(slices.Clone(data), 0))
	if !errors.Is(err, replay.ErrCorrupt) {
		t.Errorf("trailing byte: error %v, want ErrCorrupt", err)
	}
}

func TestWriterStickyErrors(t *testing.T) {
	in := make([]rollback.PlayerInput[Buttons], 2)
	for _, tc := range []struct {
		name string
		do   func(w *replay.Writer[Buttons])
		want error
	}{
		{"gap", func(w *replay.Writer[Buttons]) { w.RecordFrame(0, in); w.RecordFrame(2, in) }, replay.ErrSequence},
		{"not from 0", func(w *replay.Writer[Buttons]) { w.RecordFrame(1, in) }, replay.ErrSequence},
		{"repeat", func(w *replay.Writer[Buttons]) { w.RecordFrame(0, in); w.RecordFrame(0, in) }, replay.ErrSequence},
		{"players", func(w *replay.Writer[Buttons]) { w.RecordFrame(0, in[:1]) }, replay.ErrInvalidFrame},
		{"predicted", func(w *replay.Writer[Buttons]) {
			w.RecordFrame(0, []rollback.PlayerInput[Buttons]{{}, {Status: rollback.Predicted}})
		}, replay.ErrInvalidFrame},
		{"checksum ahead", func(w *replay.Writer[Buttons]) { w.RecordFrame(0, in); w.RecordChecksum(2, 1) }, replay.ErrSequence},
		{"checksum twice", func(w *replay.Writer[Buttons]) { w.RecordFrame(0, in); w.RecordChecksum(1, 1); w.RecordChecksum(1, 1) }, replay.ErrSequence},
		{"after close", func(w *replay.Writer[Buttons]) { w.Close(); w.RecordFrame(0, in) }, replay.ErrClosed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, err := replay.NewWriter(io.Discard, codec, replay.Header{Players: 2})
			if err != nil {
				t.Fatal(err)
			}
			tc.do(w)
			w.RecordFrame(100, in) // ignored after the first error
			if err := w.Err(); !errors.Is(err, tc.want) {
				t.Fatalf("Err() = %v, want %v", err, tc.want)
			}
			if err := w.Flush(); !errors.Is(err, tc.want) {
				t.Fatalf("Flush() = %v, want %v", err, tc.want)
			}
			t.Log(w.Err())
		})
	}
}

type failWriter struct{ n int }

func (f *failWriter) Write(p []byte) (int, error) {
	if f.n == 0 {
		return 0, errors.New("disk full")
	}
	f.n--
	return len(p), nil
}

func TestWriterIOError(t *testing.T) {
	w, err := replay.NewWriter(&failWriter{n: 1}, codec, replay.Header{Players: 1})
	if err != nil {
		t.Fatal(err)
	}
	for f := range rollback.Frame(3 * replay.BlockFrames) {
		w.RecordFrame(f, []rollback.PlayerInput[Buttons]{{Input: Buttons(f)}})
	}
	if err := w.Close(); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("Close() = %v, want the write error", err)
	}
	if _, err := replay.NewWriter(&failWriter{}, codec, replay.Header{Players: 1}); err == nil {
		t.Fatal("NewWriter on a failing writer: no error")
	}
}

func TestNewWriterRejectsBadHeader(t *testing.T) {
	for _, h := range []replay.Header{
		{},
		{Players: rollback.MaxPlayers + 1},
		{Players: 2, Version: 9},
		{Players: 2, InputSize: 4},
		{Players: 2, FrameRate: -1},
		{Players: 2, FrameRate: replay.MaxFrameRate + 1},
		{Players: 2, Metadata: make([]byte, replay.MaxMetadata+1)},
	} {
		if _, err := replay.NewWriter(io.Discard, codec, h); !errors.Is(err, replay.ErrInvalidHeader) {
			t.Errorf("NewWriter(%+v) error %v, want ErrInvalidHeader", h, err)
		}
	}
	if _, err := replay.NewWriter(io.Discard, codec, replay.Header{Players: 2, Metadata: make([]byte, replay.MaxMetadata)}); err != nil {
		t.Errorf("64 KiB metadata: %v", err)
	}
}

// A short file that claims large records must not make the reader allocate
// much.
func TestShortFileBoundedAllocation(t *testing.T) {
	data := record(t, 2, 10, 30, newScript(2, 7))
	hdrLen := 18 + len("sumgame v1") + 4
	// A forged block header (valid CRC) claiming a 1 MiB payload, and
	// nothing after it: about 100 bytes in all.
	block := []byte{'B', 0, 0, 0, 0, 10, 0, 0, 0, 0, 0, 16, 0, 0, 0, 0, 0}
	sum := crc32c(block)
	forged := append(slices.Clone(data[:hdrLen]), block...)
	forged = append(forged, byte(sum), byte(sum>>8), byte(sum>>16), byte(sum>>24))
	forged = append(forged, make([]byte, 100-len(forged))...)
	allocs := testing.AllocsPerRun(5, func() { readAll(t, forged) })
	var before, after runtimeMem
	before.read()
	_, _, _, err := readAll(t, forged)
	after.read()
	if !errors.Is(err, replay.ErrTruncated) {
		t.Fatalf("error %v, want ErrTruncated", err)
	}
	if grew := after.total - before.total; grew > 256<<10 {
		t.Fatalf("reading a %d-byte file allocated %d bytes (%v allocs)", len(forged), grew, allocs)
	}
}

// Blocks with valid CRCs but invalid content (a buggy or hostile writer)
// are rejected with a reason.
func TestForgedBlocks(t *testing.T) {
	var hdr bytes.Buffer
	if _, err := replay.NewWriter(&hdr, codec, replay.Header{Players: 2}); err != nil {
		t.Fatal(err)
	}
	// One run per player of 3 frames: length 3, confirmed, input 0x0001.
	run := []byte{3, 0, 1, 0}
	good := slices.Concat(run, run)
	for _, tc := range []struct {
		name   string
		blocks []byte
		reason string
	}{
		{"valid", slices.Concat(forgeBlock(0, 3, 0, good), forgeEnd(3)), ""},
		{"too many frames", forgeBlock(0, replay.MaxBlockFrames+1, 0, []byte{0x81, 0x20, 0, 0, 0, 0x81, 0x20, 0, 0, 0}), "at most 4096"},
		{"huge payload", forgeBlock(0, 3, 0, make([]byte, replay.MaxBlockBytes+1)), "exceeds"},
		{"gap", forgeBlock(1, 3, 0, good), "starts at frame 1, want 0"},
		{"short run", forgeBlock(0, 3, 0, slices.Concat(run, []byte{2, 0, 1, 0})), "payload ends"},
		{"long run", forgeBlock(0, 3, 0, slices.Concat(run, []byte{4, 0, 1, 0})), "bad run length"},
		{"zero run", forgeBlock(0, 3, 0, slices.Concat(run, []byte{0, 0, 1, 0})), "bad run length"},
		{"predicted", forgeBlock(0, 3, 0, slices.Concat(run, []byte{3, 1, 1, 0})), "input status 1"},
		{"stray bytes", forgeBlock(0, 3, 0, slices.Concat(good, []byte{0})), "stray bytes"},
		{"too many checksums", forgeBlock(0, 3, 5, good), "5 checksums for 3 frames"},
		{"checksum beyond block", forgeBlock(0, 3, 1, slices.Concat([]byte{4, 1, 2, 3, 4, 5, 6, 7, 8}, good)), "checksum frame offset"},
		{"checksums out of order", forgeBlock(0, 3, 2, slices.Concat([]byte{2, 1, 2, 3, 4, 5, 6, 7, 8, 1, 1, 2, 3, 4, 5, 6, 7, 8}, good)), "checksum for frame 1 after one for frame 2"},
		{"empty block", forgeBlock(0, 0, 0, nil), "empty block"},
		{"end count", slices.Concat(forgeBlock(0, 3, 0, good), forgeEnd(4)), "end record says 4 frames"},
		{"unknown record", []byte{'X'}, "unknown record kind 0x58"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, frames, _, err := readAll(t, slices.Concat(hdr.Bytes(), tc.blocks))
			if tc.reason == "" {
				if err != nil || len(frames) != 3 {
					t.Fatalf("read %d frames, %v", len(frames), err)
				}
				return
			}
			var ce *replay.CorruptError
			if !errors.As(err, &ce) || !strings.Contains(ce.Reason, tc.reason) {
				t.Fatalf("error %v, want a CorruptError saying %q", err, tc.reason)
			}
			if len(frames) != 0 && tc.name != "end count" {
				t.Fatalf("%d frames returned from a bad block", len(frames))
			}
		})
	}
}
