package replay_test

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/lynnet/lyn/rollback"
	"github.com/lynnet/lyn/rollback/replay"
	rt "github.com/lynnet/lyn/rollback/rollbacktest"
)

// TestRecordChaoticSession records a 3-peer game played over a lossy,
// jittery, reordering network, plays the recording back into a fresh game
// and checks every checksum; then flips one byte and checks the damage is
// reported with the frame it hit.
func TestRecordChaoticSession(t *testing.T) {
	codec := rollback.UintCodec[rt.Input]{}
	cfg := rt.ReferenceRun(3, 42)
	cfg.Chaos = rt.Chaos{Loss: 0.1, Delay: 50 * time.Millisecond, Jitter: 30 * time.Millisecond, Reorder: 0.1, Duplicate: 0.05}
	cfg.Frames = 1800
	var file bytes.Buffer
	w, err := replay.NewWriter(&file, codec, replay.Header{Players: 3, FrameRate: 60, Metadata: []byte("reference game, seed 42")})
	if err != nil {
		t.Fatal(err)
	}
	// Peer 0 records through the replay writer.
	tee := &countingRecorder{w: w}
	res := recordRun(t, cfg, tee)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if res.frames < 1800 {
		t.Fatalf("recorded %d frames", res.frames)
	}
	got, err := replay.Play(bytes.NewReader(file.Bytes()), codec, rollback.Game[rt.Input](rt.NewGame(3, 42)))
	if err != nil {
		t.Fatalf("playback: %v", err)
	}
	if got.Frames != res.frames || got.Checksums != res.checksums || got.Checksums < 50 {
		t.Fatalf("played %d frames and %d checksums, recorded %d and %d", got.Frames, got.Checksums, res.frames, res.checksums)
	}
	t.Logf("%d frames, %d checksums, %d bytes (%.2f bytes/frame)", got.Frames, got.Checksums, file.Len(), float64(file.Len())/float64(got.Frames))

	// A different game (another seed) replays to different states: the
	// first checksum frame is named.
	_, err = replay.Play(bytes.NewReader(file.Bytes()), codec, rollback.Game[rt.Input](rt.NewGame(3, 43)))
	var mm *replay.MismatchError
	if !errors.As(err, &mm) || mm.Frame != rollback.Frame(rollback.DefaultChecksumInterval) {
		t.Fatalf("wrong game: got %v, want a mismatch at frame %d", err, rollback.DefaultChecksumInterval)
	}

	// One flipped byte in the middle: rejected, naming the frames it hit.
	bad := bytes.Clone(file.Bytes())
	bad[len(bad)/2] ^= 0x10
	_, err = replay.Play(bytes.NewReader(bad), codec, rollback.Game[rt.Input](rt.NewGame(3, 42)))
	var ce *replay.CorruptError
	if !errors.As(err, &ce) || ce.Frame <= 0 || int(ce.Frame) >= res.frames {
		t.Fatalf("corrupted replay: got %v, want a CorruptError naming a frame", err)
	}
	t.Logf("corruption reported as: %v", err)
}

type recorded struct{ frames, checksums int }

// recordRun plays cfg with peer 0 recording into rec, and checks the peers
// agree.
func recordRun(t *testing.T, cfg rt.RunConfig[rt.Input], rec *countingRecorder) recorded {
	t.Helper()
	cfg.Session.Recorder = rec
	r, err := rt.NewRunner(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.RunUntil(cfg.Frames); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Check(); err != nil {
		t.Fatal(err)
	}
	return recorded{frames: rec.frames, checksums: rec.checksums}
}

type countingRecorder struct {
	w                 *replay.Writer[rt.Input]
	frames, checksums int
}

func (t *countingRecorder) RecordFrame(f rollback.Frame, in []rollback.PlayerInput[rt.Input]) {
	t.frames++
	t.w.RecordFrame(f, in)
}

func (t *countingRecorder) RecordChecksum(f rollback.Frame, sum uint64) {
	t.checksums++
	t.w.RecordChecksum(f, sum)
}
