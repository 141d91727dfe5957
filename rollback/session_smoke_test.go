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
