package rollback_test

import (
	"testing"
	"time"

	"github.com/lynnet/lyn/rollback"
	rt "github.com/lynnet/lyn/rollback/rollbacktest"
)

// Bug: a spectator that joins while the host's confirmed frame is in
// (256-(newest written-confirmed), 255] starts from frame 0 out of ring
// slots already reused for frames >= 256.
func TestSpectatorJoinReadsReusedSlots(t *testing.T) {
	cfg := rt.ReferenceRun(2, 3)
	cfg.Spectators = 1
	cfg.Session.InputDelay = 10
	cfg.Chaos = rt.Chaos{Delay: 20 * time.Millisecond}
	var sp *rollback.Spectator[rt.Input]
	rec := &memRec{}
	cfg.OnTick = func(r *rt.Runner[rt.Input], tick int) error {
		if sp == nil && r.Sessions[0].ConfirmedFrame() >= 250 {
			r.Net.SetLinkChaos(rt.PeerID(0), rt.SpectatorID(0), rt.Chaos{})
			r.Net.SetLinkChaos(rt.SpectatorID(0), rt.PeerID(0), rt.Chaos{})
			var err error
			sp, err = r.StartSpectator(0, rollback.SpectatorConfig[rt.Input]{Recorder: rec})
			return err
		}
		return nil
	}
	cfg.Frames = 600
	defer func() {
		in := rt.ReferenceInput(3)
		for f := 10; f < len(rec.inputs); f++ {
			for p, pi := range rec.inputs[f] {
				if pi.Input != in(p, rollback.Frame(f)) {
					t.Fatalf("spectator simulated frame %d with player %d input %v, want %v", f, p, pi.Input, in(p, rollback.Frame(f)))
				}
			}
		}
		for f := 0; f < min(10, len(rec.inputs)); f++ {
			for p, pi := range rec.inputs[f] {
				if pi.Input != 0 {
					t.Fatalf("spectator simulated frame %d with player %d input %v, want 0 (input delay)", f, p, pi.Input)
				}
			}
		}
	}()
	if _, err := rt.Run(cfg); err != nil {
		t.Fatal(err)
	}
	if st := sp.Stats(); st.Desyncs != 0 {
		t.Fatalf("spectator desynced: %+v", st)
	}
}

// spectatorOutage plays 2 players to frames with a spectator from the start
// whose link from the host is cut at tick cut and restored at tick restore,
// and returns the spectator's stats at the end.
func spectatorOutage(t *testing.T, session rollback.Config[rt.Input], cut, restore, frames int) rollback.SpectatorStats {
	t.Helper()
	cfg := rt.ReferenceRun(2, 5)
	cfg.Spectators = 1
	cfg.Session = session
	cfg.Chaos = rt.Chaos{Delay: 20 * time.Millisecond}
	cfg.Frames = frames
	var sp *rollback.Spectator[rt.Input]
	cfg.OnTick = func(r *rt.Runner[rt.Input], tick int) error {
		switch tick {
		case 0:
			var err error
			sp, err = r.StartSpectator(0, rollback.SpectatorConfig[rt.Input]{})
			return err
		case cut:
			r.Net.Cut(rt.PeerID(0), rt.SpectatorID(0))
		case restore:
			r.Net.Restore(rt.PeerID(0), rt.SpectatorID(0))
		}
		return nil
	}
	if _, err := rt.Run(cfg); err != nil {
		t.Fatal(err)
	}
	return sp.Stats()
}

// A spectator resuming ~252 frames behind after an outage must not be
// streamed input-ring slots already reused for newer frames.
func TestSpectatorResumeReadsReusedSlots(t *testing.T) {
	if st := spectatorOutage(t, rollback.Config[rt.Input]{InputDelay: 2}, 300, 552, 1200); st.Desyncs != 0 {
		t.Fatalf("spectator desynced: %+v", st)
	}
}

// A host with a longer input history than its spectator must still get a
// spectator that fell behind going again.
func TestSpectatorStuckWithLongerHostHistory(t *testing.T) {
	if st := spectatorOutage(t, rollback.Config[rt.Input]{InputHistory: 1024}, 300, 600, 900); st.Frame < 800 {
		t.Fatalf("spectator stuck at frame %d (host at 900): %+v", st.Frame, st)
	}
}

type memRec struct {
	inputs [][]rollback.PlayerInput[rt.Input]
	sums   map[rollback.Frame]uint64
}

func (r *memRec) RecordFrame(f rollback.Frame, in []rollback.PlayerInput[rt.Input]) {
	r.inputs = append(r.inputs, append([]rollback.PlayerInput[rt.Input](nil), in...))
}
func (r *memRec) RecordChecksum(f rollback.Frame, s uint64) {}
