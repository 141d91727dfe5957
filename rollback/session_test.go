package rollback_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/lynnet/lyn/rollback"
	rt "github.com/lynnet/lyn/rollback/rollbacktest"
)

// chaosProfiles span the range: 0–20 % loss, 0–200 ms delay,
// jitter, reordering, duplication and loss bursts.
var chaosProfiles = []struct {
	name  string
	chaos rt.Chaos
}{
	{"perfect", rt.Chaos{}},
	{"lan", rt.Chaos{Delay: 2 * time.Millisecond, Jitter: time.Millisecond}},
	{"loss20", rt.Chaos{Loss: 0.20, Delay: 30 * time.Millisecond, Jitter: 10 * time.Millisecond}},
	{"far200", rt.Chaos{Delay: 200 * time.Millisecond, Jitter: 20 * time.Millisecond, Loss: 0.02}},
	{"wild", rt.Chaos{Loss: 0.08, Burst: rt.BurstLoss{Start: 0.01, MeanLength: 6}, Delay: 60 * time.Millisecond,
		Jitter: 40 * time.Millisecond, Duplicate: 0.05, Reorder: 0.10}},
}

func TestChaosMatrix(t *testing.T) {
	for _, peers := range []int{2, 4, 8} {
		for _, prof := range chaosProfiles {
			for seed := range uint64(3) {
				if testing.Short() && seed > 0 {
					continue
				}
				t.Run(fmt.Sprintf("peers=%d/%s/seed=%d", peers, prof.name, seed), func(t *testing.T) {
					t.Parallel()
					cfg := rt.ReferenceRun(peers, seed)
					cfg.Chaos = prof.chaos
					cfg.Frames = 2000
					res, err := rt.Run(cfg)
					if err != nil {
						t.Fatalf("%v (seed %d replays this exactly)", err, seed)
					}
					if res.ChecksumsCompared < (peers-1)*60 || res.InputsChecked < peers*2000 {
						t.Fatalf("too little checked: %d checksums, %d inputs", res.ChecksumsCompared, res.InputsChecked)
					}
					st := res.Stats[0]
					t.Logf("ticks %d, rollbacks %d (%d frames), stalls %d", res.Ticks, st.Rollbacks, st.RollbackFrames, st.Stalls)
				})
			}
		}
	}
}

// TestCouchPlay: two peers with two local players each.
func TestCouchPlay(t *testing.T) {
	cfg := rt.ReferenceRun(2, 7)
	cfg.PlayersPerPeer = 2
	cfg.Chaos = chaosProfiles[4].chaos
	cfg.Frames = 1500
	res, err := rt.Run(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.InputsChecked < 4*1500 {
		t.Fatalf("checked %d inputs", res.InputsChecked)
	}
}

// TestLockstepMatchesRollback: the same inputs give the same confirmed
// states whether the session predicts or waits.
func TestLockstepMatchesRollback(t *testing.T) {
	run := func(lockstep bool) map[rollback.Frame]uint64 {
		cfg := rt.ReferenceRun(3, 11)
		cfg.Chaos = rt.Chaos{Delay: 40 * time.Millisecond, Jitter: 15 * time.Millisecond, Loss: 0.05}
		cfg.Frames = 1200
		cfg.Session.Lockstep = lockstep
		res, err := rt.Run(cfg)
		if err != nil {
			t.Fatalf("lockstep=%v: %v", lockstep, err)
		}
		if lockstep && res.Stats[0].Rollbacks != 0 {
			t.Fatalf("lockstep rolled back %d times", res.Stats[0].Rollbacks)
		}
		if !lockstep && res.Stats[0].Rollbacks == 0 {
			t.Fatal("rollback run never rolled back: the test proves nothing")
		}
		return res.Checksums
	}
	a, b := run(false), run(true)
	compared := 0
	for f, sum := range a {
		if other, ok := b[f]; ok {
			compared++
			if other != sum {
				t.Fatalf("frame %d: rollback %016x, lockstep %016x", f, sum, other)
			}
		}
	}
	if compared < 30 {
		t.Fatalf("only %d frames compared", compared)
	}
}

func TestSyncTestCatchesNondeterminism(t *testing.T) {
	input := rt.ReferenceInput(3)
	if err := rt.SyncTest(rollback.Game[rt.Input](rt.NewGame(2, 3)), 2, 500, 4, input); err != nil {
		t.Fatalf("deterministic game failed: %v", err)
	}
	const bad = 137
	err := rt.SyncTest(rollback.Game[rt.Input](rt.NewNondeterministicGame(2, 3, bad)), 2, 500, 4, input)
	var nd *rollback.NondeterminismError
	if !errors.As(err, &nd) {
		t.Fatalf("got %v, want a NondeterminismError", err)
	}
	if nd.Frame != bad+1 {
		t.Fatalf("named frame %d, want %d: %v", nd.Frame, bad+1, err)
	}
}

// TestInputDelayChange: one peer changes its input delay up and down while
// playing; nobody desyncs and every input still lands where it was sent.
func TestInputDelayChange(t *testing.T) {
	cfg := rt.ReferenceRun(3, 5)
	cfg.Chaos = rt.Chaos{Delay: 30 * time.Millisecond, Jitter: 10 * time.Millisecond, Loss: 0.05}
	cfg.Frames = 2000
	cfg.OnTick = func(r *rt.Runner[rt.Input], tick int) error {
		switch tick {
		case 400:
			return r.Sessions[1].SetInputDelay(4)
		case 900:
			return r.Sessions[1].SetInputDelay(1)
		case 1300:
			return r.Sessions[1].SetInputDelay(7)
		case 1700:
			return r.Sessions[1].SetInputDelay(0)
		}
		return nil
	}
	if _, err := rt.Run(cfg); err != nil {
		t.Fatal(err)
	}
}

// TestOneOfFourDisconnects: peer 3 dies; the other three agree on the frame
// from which its input is Disconnected and play on in agreement.
func TestOneOfFourDisconnects(t *testing.T) {
	for seed := range uint64(4) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			cfg := rt.ReferenceRun(4, seed)
			cfg.Chaos = rt.Chaos{Delay: 25 * time.Millisecond, Jitter: 20 * time.Millisecond, Loss: 0.1}
			cfg.Frames = 1500
			cfg.OnTick = func(r *rt.Runner[rt.Input], tick int) error {
				if tick == 600 {
					r.Crash(3)
				}
				return nil
			}
			r, err := rt.NewRunner(cfg)
			if err != nil {
				t.Fatal(err)
			}
			if err := r.RunUntil(1500); err != nil {
				t.Fatal(err)
			}
			if _, err := r.Check(); err != nil {
				t.Fatal(err)
			}
			var frames []rollback.Frame
			for i := range 3 {
				var got *rollback.Event
				interrupted := false
				for _, e := range r.Events(i) {
					if e.Kind == rollback.EventPeerInterrupted && e.Peer == rt.PeerID(3) {
						interrupted = true
					}
					if e.Kind == rollback.EventPeerDisconnected {
						got = &e
					}
				}
				if got == nil || !interrupted || got.Peer != rt.PeerID(3) || got.Player != 3 {
					t.Fatalf("peer %d: no interrupted+disconnected events for peer 3 (got %v)", i, got)
				}
				frames = append(frames, got.Frame)
			}
			if frames[0] != frames[1] || frames[1] != frames[2] {
				t.Fatalf("peers disagree on the disconnect frame: %v", frames)
			}
		})
	}
}

// TestSpectatorJoinsLate: a spectator that connects at frame 1000 starts
// from a snapshot, runs faster than real time until live, then agrees with
// the players' checksums.
func TestSpectatorJoinsLate(t *testing.T) {
	cfg := rt.ReferenceRun(2, 9)
	cfg.Spectators = 1
	cfg.Chaos = rt.Chaos{Delay: 20 * time.Millisecond, Jitter: 10 * time.Millisecond, Loss: 0.05}
	var sp *rollback.Spectator[rt.Input]
	var startedAt int
	cfg.OnTick = func(r *rt.Runner[rt.Input], tick int) error {
		if sp == nil && r.Sessions[0].Frame() >= 1000 {
			var err error
			sp, err = r.StartSpectator(0, rollback.SpectatorConfig[rt.Input]{})
			startedAt = tick
			return err
		}
		return nil
	}
	cfg.Frames = 2500
	r, err := rt.NewRunner(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.RunUntil(2500); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Check(); err != nil {
		t.Fatal(err)
	}
	st := sp.Stats()
	if !sp.Live() || st.Snapshots != 1 || st.Desyncs != 0 || st.ChecksumsCompared < 30 {
		t.Fatalf("spectator live=%v stats %+v", sp.Live(), st)
	}
	if lag := r.Sessions[0].Frame() - sp.Frame(); lag > 20 {
		t.Fatalf("spectator %d frames behind the host", lag)
	}
	var liveAt int = -1
	for i, e := range r.SpectatorEvents(0) {
		if e.Kind == rollback.EventRunning {
			liveAt = i
		}
	}
	if liveAt < 0 {
		t.Fatal("spectator never said it was live")
	}
	t.Logf("spectator started at tick %d, %+v", startedAt, st)
}

// TestTimeSyncAdvice: a peer that starts late is behind; the one ahead is
// told to slow down, and both converge.
func TestTimeSyncAdvice(t *testing.T) {
	cfg := rt.ReferenceRun(2, 1)
	cfg.Chaos = rt.Chaos{Delay: 20 * time.Millisecond}
	cfg.Session.MaxPrediction = 12
	r, err := rt.NewRunner(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for range 60 {
		if err := r.Tick(); err != nil {
			t.Fatal(err)
		}
	}
	r.Hold(1, 6) // peer 1 stalls for 6 frames: peer 0 is now ahead
	for range 20 {
		if err := r.Tick(); err != nil {
			t.Fatal(err)
		}
	}
	ahead, behind := r.Sessions[0].TimeSync(), r.Sessions[1].TimeSync()
	nominal := time.Second / 60
	if ahead.FramesAhead < 2 || ahead.FrameDuration <= nominal || behind.FramesAhead > -2 || behind.FrameDuration >= nominal {
		t.Fatalf("advice: ahead %+v, behind %+v", ahead, behind)
	}
	t.Logf("advice: ahead %+v, behind %+v", ahead, behind)
}

// TestInputsAreCopied: a game that reuses one input value buffer must not
// rewrite history (a bug in the Go port of GGPO, which kept the caller's
// slice).
func TestInputsAreCopied(t *testing.T) {
	var buf pad
	clock := rt.NewFakeClock(time.Unix(0, 0))
	net := rt.NewNetwork[pad](rt.NetworkConfig{Clock: clock})
	rec := &padRecorder{}
	players := []rollback.PeerID{1}
	s, err := rollback.NewSession(rollback.Config[pad]{Players: players, Self: 1, Clock: clock, Recorder: rec}, rollback.Game[pad](&padGame{}), net.Endpoint(1))
	if err != nil {
		t.Fatal(err)
	}
	for f := range 100 {
		buf[0] = byte(f) // the same variable, rewritten every frame
		s.AddLocalInput(0, buf)
		if err := s.AdvanceFrame(); err != nil {
			t.Fatal(err)
		}
	}
	for f, in := range rec.inputs {
		if in[0] != byte(f) {
			t.Fatalf("frame %d recorded input %v", f, in)
		}
	}
}

// pad is an input that is an array: a value Go copies, unlike the []byte
// inputs of that port.
type pad [4]byte

type padGame struct{ n int }

func (g *padGame) Save(dst []byte) []byte                 { return append(dst, byte(g.n)) }
func (g *padGame) Load(b []byte) error                    { g.n = int(b[0]); return nil }
func (g *padGame) Advance(in []rollback.PlayerInput[pad]) { g.n++ }

type padRecorder struct{ inputs []pad }

func (r *padRecorder) RecordFrame(f rollback.Frame, in []rollback.PlayerInput[pad]) {
	r.inputs = append(r.inputs, in[0].Input)
}
func (r *padRecorder) RecordChecksum(rollback.Frame, uint64) {}

// TestCustomPredictorAndStats: a game-supplied predictor is used (and the
// peers still agree), and the per-peer stats a game would show are filled.
func TestCustomPredictorAndStats(t *testing.T) {
	calls := 0
	cfg := rt.ReferenceRun(3, 21)
	cfg.Chaos = rt.Chaos{Delay: 40 * time.Millisecond, Jitter: 20 * time.Millisecond, Loss: 0.05}
	cfg.Frames = 1200
	cfg.Session.Predict = func(p rollback.Player, last rt.Input) rt.Input {
		calls++
		return last &^ rt.Action // buttons are held, a shot is not
	}
	r, err := rt.NewRunner(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.RunUntil(1200); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Check(); err != nil {
		t.Fatal(err)
	}
	if calls == 0 {
		t.Fatal("custom predictor never called")
	}
	for _, ps := range r.Sessions[0].AppendPeerStats(nil) {
		t.Logf("%+v", ps)
		if !ps.Synchronized || ps.RTT < 60*time.Millisecond || ps.RTT > 200*time.Millisecond ||
			ps.Rollbacks == 0 || ps.RollbackP99 < ps.RollbackLast && ps.RollbackP99 == 0 ||
			ps.RollbackP99 > rollback.DefaultMaxPrediction || ps.InputsLate == 0 ||
			ps.InputsReceived < 1200 || ps.InputsSent < 1200 || ps.ChecksumsCompared < 30 {
			t.Errorf("implausible stats %+v", ps)
		}
	}
}

// TestDesyncDetected: peers running a game that is not deterministic under
// rollback report a desync with the frame and both checksums, and never
// before the game goes wrong.
func TestDesyncDetected(t *testing.T) {
	const bad = 300
	cfg := rt.ReferenceRun(2, 4)
	cfg.Chaos = rt.Chaos{Delay: 30 * time.Millisecond, Jitter: 20 * time.Millisecond}
	cfg.NewGame = func(players int) rollback.Game[rt.Input] { return rt.NewNondeterministicGame(players, 4, bad) }
	cfg.Frames = 900
	r, err := rt.NewRunner(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.RunUntil(900); err != nil {
		t.Fatal(err)
	}
	_, err = r.Check()
	var de *rollback.DesyncError
	if !errors.As(err, &de) {
		t.Fatalf("got %v, want a DesyncError", err)
	}
	if de.Frame <= bad || de.Local == de.Remote || de.Frame%rollback.DefaultChecksumInterval != 0 {
		t.Fatalf("implausible desync %+v", de)
	}
	t.Log(de)
}

// TestPartialPartition: the link between peers 0 and 1 is cut while both
// still reach peer 2. Peers must split consistently: one of 0 and 1 ends up
// alone, the other two keep playing together without a desync.
func TestPartialPartition(t *testing.T) {
	for seed := range uint64(6) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			cfg := rt.ReferenceRun(3, seed)
			cfg.Chaos = rt.Chaos{Delay: 20 * time.Millisecond, Jitter: 15 * time.Millisecond}
			r, err := rt.NewRunner(cfg)
			if err != nil {
				t.Fatal(err)
			}
			for tick := range 1500 {
				if tick == 400 {
					r.Net.SetLinkDown(rt.PeerID(0), rt.PeerID(1), true)
				}
				if err := r.Tick(); err != nil {
					t.Fatal(err)
				}
			}
			gaveUp := func(i, j int) bool {
				ps, _ := r.Sessions[i].PeerStats(rt.PeerID(j))
				return ps.Disconnected
			}
			alone := -1
			for i := range 3 {
				if gaveUp(i, (i+1)%3) && gaveUp(i, (i+2)%3) {
					alone = i
				}
			}
			if alone < 0 || alone == 2 {
				t.Fatalf("no consistent split: alone=%d", alone)
			}
			a, b := 2, 1-alone
			if gaveUp(a, b) || gaveUp(b, a) {
				t.Fatalf("peers %d and %d should still play together", a, b)
			}
			for _, i := range []int{a, b} {
				for _, e := range r.Events(i) {
					if e.Kind == rollback.EventDesync {
						t.Fatalf("peer %d: %v", i, e.Err)
					}
				}
				if r.Sessions[i].ConfirmedFrame() < 1300 {
					t.Fatalf("peer %d stuck at confirmed frame %d", i, r.Sessions[i].ConfirmedFrame())
				}
			}
			sa, sb := r.Sessions[a].Stats(), r.Sessions[b].Stats()
			t.Logf("peer %d alone; peers %d and %d confirmed %d and %d", alone, a, b, sa.ConfirmedFrame, sb.ConfirmedFrame)
		})
	}
}
