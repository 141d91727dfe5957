package sim

import (
	"testing"

	"github.com/lynnet/lyn/rollback"
	"github.com/lynnet/lyn/rollback/rollbacktest"
)

func TestSameSeedSameInputsSameChecksums(t *testing.T) {
	for _, players := range []int{2, 8} {
		a, b := New(42, players), New(42, players)
		other := New(43, players)
		in := make([]rollback.PlayerInput[Input], players)
		differs := false
		for f := range 5000 {
			for p := range in {
				in[p] = rollback.PlayerInput[Input]{Input: randomInput(1, p, f)}
			}
			a.Advance(in)
			b.Advance(in)
			other.Advance(in)
			if a.Checksum() != b.Checksum() {
				t.Fatalf("%d players: frame %d checksums %#x and %#x differ", players, a.Frame(), a.Checksum(), b.Checksum())
			}
			differs = differs || a.Checksum() != other.Checksum()
		}
		if !differs {
			t.Fatalf("%d players: seeds 42 and 43 gave the same game for 5000 frames", players)
		}
	}
}

// TestSyncTestRandomInputs runs the game under rollbacktest.SyncTest: every
// frame it re-simulates the last 8 frames (the engine's default prediction
// window) from a saved state and compares checksums.
func TestSyncTestRandomInputs(t *testing.T) {
	for _, players := range []int{2, 8} {
		input := func(p rollback.Player, f rollback.Frame) Input { return randomInput(7, p, int(f)) }
		if err := rollbacktest.SyncTest(New(5, players), players, 4000, 8, input); err != nil {
			t.Fatalf("%d players: %v", players, err)
		}
	}
}

// TestSyncTestBots does the same with bots, whose input is read from the
// state each frame, through a rollback.SyncTest session.
func TestSyncTestBots(t *testing.T) {
	for _, players := range []int{2, 8} {
		g := New(11, players)
		st, err := rollback.NewSyncTest(rollback.SyncTestConfig[Input]{Players: players, CheckDistance: 8}, g)
		if err != nil {
			t.Fatal(err)
		}
		rounds := 0
		for range 6000 {
			for p := range players {
				if err := st.AddLocalInput(p, Bot(g, p)); err != nil {
					t.Fatal(err)
				}
			}
			if err := st.AdvanceFrame(); err != nil {
				t.Fatalf("%d players, frame %d: %v", players, g.Frame(), err)
			}
			rounds = max(rounds, g.Round())
		}
		if rounds < 2 {
			t.Fatalf("%d players: only %d rounds in 6000 frames: the bots do not play", players, rounds)
		}
	}
}

// TestPeerToPeerRun runs the game between 8 peers (and 4 peers of 2 couch
// players) over rollbacktest's lossy, jittery in-memory network, with one
// peer crashing midway: every live peer must confirm the same inputs and
// checksums.
func TestPeerToPeerRun(t *testing.T) {
	for _, tc := range []struct{ peers, perPeer int }{{8, 1}, {4, 2}} {
		cfg := rollbacktest.RunConfig[Input]{
			Peers:          tc.peers,
			PlayersPerPeer: tc.perPeer,
			Frames:         900,
			Seed:           3,
			Chaos:          rollbacktest.Chaos{Loss: 0.05, Delay: 30e6, Jitter: 10e6, Reorder: 0.02},
			NewGame:        func(players int) rollback.Game[Input] { return New(99, players) },
			Input:          func(p rollback.Player, f rollback.Frame) Input { return randomInput(2, p, int(f)) },
			OnTick: func(r *rollbacktest.Runner[Input], tick int) error {
				if tick == 400 {
					r.Crash(tc.peers - 1)
				}
				return nil
			},
		}
		res, err := rollbacktest.Run(cfg)
		if err != nil {
			t.Fatalf("%d peers × %d: %v", tc.peers, tc.perPeer, err)
		}
		if res.ChecksumsCompared == 0 {
			t.Fatalf("%d peers × %d: no checksums compared", tc.peers, tc.perPeer)
		}
		var rollbacks uint64
		for _, s := range res.Stats {
			rollbacks += s.Rollbacks
		}
		t.Logf("%d peers × %d: %d ticks, %d checksum comparisons, %d rollbacks", tc.peers, tc.perPeer, res.Ticks, res.ChecksumsCompared, rollbacks)
	}
}
