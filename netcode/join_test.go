//go:build !js

package netcode

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/lynnet/lyn/rollback"
	rt "github.com/lynnet/lyn/rollback/rollbacktest"
)

// signalingServer runs a real signaling server on loopback and returns the
// ws:// URL of a room.
func signalingServer(t *testing.T, room string) string { return startSignaling(t) + "/" + room }

// joinAll joins n peers to url concurrently and returns their sessions in
// player order.
func joinAll(t testing.TB, url string, n int, recorders []rollback.Recorder[rt.Input]) []*Session[rt.Input] {
	t.Helper()
	return joinAllWith(t, url, n, func(i int, cfg *JoinConfig[rt.Input]) {
		if recorders != nil {
			cfg.Session.Recorder = recorders[i]
		}
	})
}

// joinAllWith is joinAll with each peer's JoinConfig adjusted by adjust.
func joinAllWith(t testing.TB, url string, n int, adjust func(i int, cfg *JoinConfig[rt.Input])) []*Session[rt.Input] {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out := make([]*Session[rt.Input], n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			cfg := JoinConfig[rt.Input]{
				URL: url, Players: n, Codec: inputCodec,
				NewGame: func(seed uint64, players int) rollback.Game[rt.Input] { return rt.NewGame(players, seed) },
				Net:     Config{LoopbackOnly: true},
			}
			adjust(i, &cfg)
			out[i], errs[i] = Join(ctx, cfg)
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		for _, s := range out {
			if s != nil {
				s.Close()
			}
		}
		t.Fatal(err)
	}
	sessions := make([]*Session[rt.Input], n)
	for _, s := range out {
		sessions[s.LocalPlayer()] = s
	}
	return sessions
}

type sumRecorder struct {
	mu   sync.Mutex
	sums map[rollback.Frame]uint64
}

func (r *sumRecorder) RecordFrame(rollback.Frame, []rollback.PlayerInput[rt.Input]) {}
func (r *sumRecorder) RecordChecksum(f rollback.Frame, s uint64) {
	r.mu.Lock()
	r.sums[f] = s
	r.mu.Unlock()
}

// TestJoinThroughSignaling: three games join one room on a real signaling
// server, get the same seed and player order, connect over WebRTC, play 600
// frames and agree on every checksum; closing leaks nothing.
func TestJoinThroughSignaling(t *testing.T) {
	const n = 3
	url := signalingServer(t, "join-test")
	recs := make([]rollback.Recorder[rt.Input], n)
	for i := range recs {
		recs[i] = &sumRecorder{sums: map[rollback.Frame]uint64{}}
	}
	sessions := joinAll(t, url, n, recs)
	defer func() {
		for _, s := range sessions {
			if err := s.Close(); err != nil {
				t.Error(err)
			}
		}
	}()
	for _, s := range sessions[1:] {
		if s.Seed() != sessions[0].Seed() {
			t.Fatalf("seeds differ: %d vs %d", s.Seed(), sessions[0].Seed())
		}
	}
	input := rt.ReferenceInput(1)
	deadline := time.Now().Add(60 * time.Second)
	for {
		done := true
		for _, s := range sessions {
			p := s.LocalPlayer()
			s.AddLocalInput(p, input(p, s.Frame()+rollback.Frame(s.InputDelay())))
			if err := s.AdvanceFrame(); err != nil && !rollback.IsWait(err) {
				t.Fatal(err)
			}
			for _, e := range s.Events(nil) {
				if e.Kind == rollback.EventDesync || e.Kind == rollback.EventPeerDisconnected {
					t.Fatalf("player %d: %v", p, e)
				}
			}
			done = done && s.ConfirmedFrame() >= 600
		}
		if done {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("did not confirm 600 frames in time")
		}
		time.Sleep(time.Millisecond)
	}
	compared := 0
	first := recs[0].(*sumRecorder)
	for _, r := range recs[1:] {
		other := r.(*sumRecorder)
		other.mu.Lock()
		for f, sum := range first.sums {
			if o, ok := other.sums[f]; ok {
				compared++
				if o != sum {
					t.Fatalf("frame %d: %x vs %x", f, sum, o)
				}
			}
		}
		other.mu.Unlock()
	}
	if compared < 2*15 {
		t.Fatalf("only %d checksums compared", compared)
	}
	for _, ns := range sessions[0].NetStats() {
		if ns.LocalCandidateType.String() != "host" || ns.KbpsOut <= 0 {
			t.Fatalf("net stats %+v", ns)
		}
	}
	t.Logf("net stats of player 0: %+v", sessions[0].NetStats()[0])
}

// TestJoinRoomGone: a room URL nobody serves fails with a clear error.
func TestJoinRoomGone(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := Join(ctx, JoinConfig[rt.Input]{URL: "ws://127.0.0.1:1/none", Codec: inputCodec,
		NewGame: func(uint64, int) rollback.Game[rt.Input] { return rt.NewGame(2, 1) }})
	if !errors.Is(err, ErrSignaling) {
		t.Fatalf("got %v, want ErrSignaling", err)
	}
}

// TestGoodbyeOverWebRTC: a player who closes its session is dropped by the
// other at once, from its goodbye, not after the disconnect timeout (30 s
// here): Close waits until the goodbye is acknowledged before it closes the
// connection. Three rounds, because a lost goodbye was a sometimes thing.
func TestGoodbyeOverWebRTC(t *testing.T) {
	const timeout = 30 * time.Second
	for round := range 3 {
		url := signalingServer(t, fmt.Sprintf("goodbye-%d", round))
		sessions := joinAllWith(t, url, 2, func(_ int, cfg *JoinConfig[rt.Input]) {
			cfg.Session.DisconnectTimeout = timeout
		})
		stay, leave := sessions[0], sessions[1]
		tick := func(s *Session[rt.Input]) []rollback.Event {
			p := s.LocalPlayer()
			s.AddLocalInput(p, rt.Input(s.Frame()))
			if err := s.AdvanceFrame(); err != nil && !rollback.IsWait(err) {
				t.Fatal(err)
			}
			return s.Events(nil)
		}
		for deadline := time.Now().Add(20 * time.Second); stay.ConfirmedFrame() < 30 || leave.ConfirmedFrame() < 30; time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatal("the game did not get going")
			}
			tick(stay)
			tick(leave)
		}
		left := time.Now()
		if err := leave.Close(); err != nil {
			t.Fatal(err)
		}
		dropped := false
		// A bound far below the timeout: the goodbye takes a round trip.
		for deadline := left.Add(timeout / 3); !dropped && time.Now().Before(deadline); time.Sleep(time.Millisecond) {
			for _, e := range tick(stay) {
				dropped = dropped || (e.Kind == rollback.EventPeerDisconnected && e.Player == 1)
			}
		}
		if !dropped {
			t.Fatalf("round %d: the player who left was not dropped within %v of its Close (its goodbye was lost)", round, timeout/3)
		}
		t.Logf("round %d: dropped %v after Close returned", round, time.Since(left).Round(time.Millisecond))
		if err := stay.Close(); err != nil {
			t.Fatal(err)
		}
	}
}
