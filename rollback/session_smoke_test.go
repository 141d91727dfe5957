package rollback

import (
	"errors"
	"testing"
	"time"
)

// runPipe runs n single-player peers over a pipeNet for frames ticks and
// returns their logs.
func runPipe(t *testing.T, n, delayTicks, ticks int, lockstep bool) ([]*Session[uint16], []*checksumLog) {
	t.Helper()
	net := newPipeNet(delayTicks)
	clock := &fakeClock{t: time.Unix(1000, 0)}
	players := make([]PeerID, n)
	for i := range players {
		players[i] = PeerID(i + 1)
	}
	sessions := make([]*Session[uint16], n)
	logs := make([]*checksumLog, n)
	delay := 0
	if lockstep {
		delay = 2*delayTicks + 1 // a round trip, so lockstep never waits
	}
	for i := range sessions {
		logs[i] = newChecksumLog()
		s, err := NewSession(Config[uint16]{Players: players, Self: players[i], Clock: clock, Recorder: logs[i], Lockstep: lockstep, InputDelay: delay}, newSumGame(n), net.end(players[i]))
		if err != nil {
			t.Fatal(err)
		}
		sessions[i] = s
	}
	for tick := range ticks {
		net.tick = tick
		clock.t = clock.t.Add(time.Second / 60)
		for i, s := range sessions {
			if err := s.AddLocalInput(i, uint16((tick/7+i)%5)); err != nil {
				t.Fatal(err)
			}
			if err := s.AdvanceFrame(); err != nil && !errors.Is(err, ErrNotSynchronized) && !errors.Is(err, ErrPredictionLimit) {
				t.Fatalf("peer %d tick %d: %v", i, tick, err)
			}
		}
	}
	return sessions, logs
}

func TestSmokeTwoPeers(t *testing.T) {
	for _, lockstep := range []bool{false, true} {
		sessions, logs := runPipe(t, 2, 3, 600, lockstep)
		for i, s := range sessions {
			st := s.Stats()
			t.Logf("lockstep=%v peer %d: %+v", lockstep, i, st)
			if st.ConfirmedFrame < 500 {
				t.Errorf("peer %d confirmed only %d frames", i, st.ConfirmedFrame)
			}
			if logs[i].err != nil {
				t.Error(logs[i].err)
			}
			var ev []Event
			for _, e := range s.Events(ev) {
				if e.Kind == EventDesync {
					t.Errorf("peer %d: %v", i, e)
				}
			}
		}
		if len(logs[0].sums) < 10 {
			t.Fatalf("only %d checksums", len(logs[0].sums))
		}
		for f, sum := range logs[0].sums {
			if other, ok := logs[1].sums[f]; ok && other != sum {
				t.Errorf("frame %d: %x vs %x", f, sum, other)
			}
		}
	}
}

func TestSmokeDisconnectAndSpectator(t *testing.T) {
	net := newPipeNet(2)
	clock := &fakeClock{t: time.Unix(1000, 0)}
	players := []PeerID{1, 2, 3, 4}
	const spec PeerID = 9
	sessions := make([]*Session[uint16], 4)
	logs := make([]*checksumLog, 4)
	for i := range sessions {
		logs[i] = newChecksumLog()
		cfg := Config[uint16]{Players: players, Self: players[i], Clock: clock, Recorder: logs[i]}
		if i == 0 {
			cfg.Spectators = []PeerID{spec}
		}
		s, err := NewSession(cfg, newSumGame(4), net.end(players[i]))
		if err != nil {
			t.Fatal(err)
		}
		sessions[i] = s
	}
	var spectator *Spectator[uint16]
	specLog := newChecksumLog()
	dead := false
	net.drop = func(from, to PeerID) bool { return dead && (from == 4 || to == 4) }
	var events [4][]Event
	for tick := range 1500 {
		net.tick = tick
		clock.t = clock.t.Add(time.Second / 60)
		if tick == 400 {
			dead = true
		}
		if tick == 1000 {
			var err error
			spectator, err = NewSpectator(SpectatorConfig[uint16]{Players: players, Host: 1, Clock: clock, Recorder: specLog}, newSumGame(4), net.end(spec))
			if err != nil {
				t.Fatal(err)
			}
		}
		for i, s := range sessions {
			if dead && i == 3 {
				continue
			}
			s.AddLocalInput(i, uint16((tick/5+i)%7))
			if err := s.AdvanceFrame(); err != nil && !errors.Is(err, ErrNotSynchronized) && !errors.Is(err, ErrPredictionLimit) {
				t.Fatalf("peer %d tick %d: %v", i, tick, err)
			}
			events[i] = s.Events(events[i])
		}
		if spectator != nil {
			if err := spectator.AdvanceFrame(); err != nil && !errors.Is(err, ErrCatchingUp) {
				t.Fatal(err)
			}
		}
	}
	for i := range 3 {
		st := sessions[i].Stats()
		t.Logf("peer %d: %+v", i, st)
		for _, e := range events[i] {
			if e.Kind != EventSynchronizing && e.Kind != EventSynchronized {
				t.Logf("  %v", e)
			}
			if e.Kind == EventDesync {
				t.Error(e)
			}
		}
	}
	t.Logf("spectator: %+v live=%v", spectator.Stats(), spectator.Live())
	for _, e := range spectator.Events(nil) {
		t.Logf("  spectator %v", e)
	}
	for f, sum := range logs[0].sums {
		for i := 1; i < 3; i++ {
			if other, ok := logs[i].sums[f]; ok && other != sum {
				t.Errorf("frame %d: peer 0 %x vs peer %d %x", f, sum, i, other)
			}
		}
	}
}
