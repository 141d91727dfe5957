//go:build !js

package netcode

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lynnet/lyn/rollback"
	rt "github.com/lynnet/lyn/rollback/rollbacktest"
	"github.com/lynnet/lyn/signaling"
)

// startSignaling serves a real signaling server on loopback and returns its
// ws:// base URL.
func startSignaling(t *testing.T) string {
	t.Helper()
	srv := signaling.NewServer(signaling.Config{})
	hs := httptest.NewServer(srv)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil && !errors.Is(err, signaling.ErrServerClosed) {
			t.Errorf("signaling shutdown: %v", err)
		}
		hs.Close()
	})
	return "ws" + strings.TrimPrefix(hs.URL, "http")
}

func joinTestConfig(url string) JoinConfig[rt.Input] {
	return JoinConfig[rt.Input]{
		URL:     url,
		Players: 2,
		Codec:   inputCodec,
		NewGame: func(seed uint64, players int) rollback.Game[rt.Input] { return rt.NewGame(players, seed) },
		Session: rollback.Config[rt.Input]{
			DisconnectTimeout:     time.Hour,
			DisconnectNotifyStart: time.Hour,
		},
		SpectatorSession: rollback.SpectatorConfig[rt.Input]{DisconnectNotifyStart: time.Hour},
		Net:              loopback,
	}
}

// players runs joined player sessions, each on its own goroutine, with
// scripted inputs and a short real sleep per tick, until stop. Session
// state is read only on those goroutines, or after stop returns.
type players struct {
	sessions []*Session[rt.Input]
	frames   []atomic.Int64
	quit     chan struct{}
	wg       sync.WaitGroup
	mu       sync.Mutex
	errs     []error
}

func runPlayers(sessions []*Session[rt.Input]) *players {
	ps := &players{sessions: sessions, frames: make([]atomic.Int64, len(sessions)), quit: make(chan struct{})}
	for i, s := range sessions {
		ps.wg.Go(func() {
			for {
				select {
				case <-ps.quit:
					return
				default:
				}
				f := s.Frame()
				in := rt.Input(uint16(f)*31 + uint16(s.LocalPlayer())*7)
				if err := s.AddLocalInput(s.LocalPlayer(), in); err != nil {
					ps.fail(err)
					return
				}
				err := s.AdvanceFrame()
				if err != nil && !errors.Is(err, rollback.ErrNotSynchronized) && !errors.Is(err, rollback.ErrPredictionLimit) {
					ps.fail(fmt.Errorf("player %d: %w", i, err))
					return
				}
				for _, e := range s.Events(nil) {
					if e.Kind == rollback.EventDesync {
						ps.fail(fmt.Errorf("player %d: %v", i, e.Err))
					}
				}
				ps.frames[i].Store(int64(s.Frame()))
				time.Sleep(time.Millisecond)
			}
		})
	}
	return ps
}

func (ps *players) fail(err error) {
	ps.mu.Lock()
	ps.errs = append(ps.errs, err)
	ps.mu.Unlock()
}

func (ps *players) minFrame() int64 {
	m := ps.frames[0].Load()
	for i := range ps.frames {
		m = min(m, ps.frames[i].Load())
	}
	return m
}

func (ps *players) stop(t *testing.T) {
	t.Helper()
	close(ps.quit)
	ps.wg.Wait()
	for _, err := range ps.errs {
		t.Error(err)
	}
}

// joinPlayers joins n players concurrently; the result is in start order
// (sessions[0] is the host).
func joinPlayers(t *testing.T, ctx context.Context, cfg JoinConfig[rt.Input], n int) []*Session[rt.Input] {
	t.Helper()
	cfg.Players = n
	got := make([]*Session[rt.Input], n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { got[i], errs[i] = Join(ctx, cfg) })
	}
	wg.Wait()
	out := make([]*Session[rt.Input], n)
	for i, s := range got {
		if errs[i] != nil {
			t.Fatalf("join %d: %v", i, errs[i])
		}
		out[s.LocalPlayer()] = s
	}
	return out
}

// watchSpectator drives sp until it is live and has compared checksums
// with the host, then a little longer.
func watchSpectator(t *testing.T, ctx context.Context, sp *Spectator[rt.Input], ps *players) {
	t.Helper()
	var liveAt rollback.Frame = -1
	for {
		if ctx.Err() != nil {
			t.Fatalf("spectator never caught up: live=%v stats %+v, players at %d", sp.Live(), sp.Stats(), ps.minFrame())
		}
		err := sp.AdvanceFrame()
		if err != nil && !errors.Is(err, rollback.ErrCatchingUp) {
			t.Fatal(err)
		}
		for _, e := range sp.Events(nil) {
			if e.Kind == rollback.EventDesync {
				t.Errorf("spectator: %v", e.Err)
			}
		}
		if sp.Live() && liveAt < 0 {
			liveAt = sp.Frame()
			t.Logf("spectator live at frame %d (players at %d)", liveAt, ps.minFrame())
		}
		st := sp.Stats()
		if liveAt >= 0 && st.ChecksumsCompared >= 2 && sp.Frame() >= liveAt+60 {
			return
		}
		time.Sleep(time.Millisecond)
	}
}

func checkSpectator(t *testing.T, sp *Spectator[rt.Input], wantID PeerID, late bool) {
	t.Helper()
	st := sp.Stats()
	t.Logf("spectator %d: %+v", sp.ID(), st)
	if sp.ID() != wantID {
		t.Errorf("spectator id %d, want %d", sp.ID(), wantID)
	}
	if st.ChecksumsCompared == 0 || st.Desyncs != 0 {
		t.Errorf("spectator compared %d checksums, %d desyncs", st.ChecksumsCompared, st.Desyncs)
	}
	// MessagesInvalid is not checked: the host's inputs that overtake the
	// snapshot (input and control are separate channels) are rejected and
	// counted there until the snapshot arrives, hundreds of them on a
	// loaded machine.
	if st.UnknownPeerMessages != 0 {
		t.Errorf("spectator got %d messages from strangers", st.UnknownPeerMessages)
	}
	if late && st.Snapshots == 0 {
		t.Error("late spectator started without a snapshot")
	}
	if !late && st.Snapshots != 0 {
		t.Errorf("early spectator got %d snapshots, want to start from frame 0", st.Snapshots)
	}
	ns := sp.NetStats()
	if len(ns) != 1 || ns[0].Peer != HostID {
		t.Errorf("spectator connections: %+v, want one to the host", ns)
	}
}

// TestJoinSpectatorLate: two players play 600 frames, then a spectator
// joins through the signaling server, connects to the host only, starts
// from a snapshot, catches up and agrees with the host's checksums. A
// second one joins after the first left and gets its freed id.
func TestJoinSpectatorLate(t *testing.T) {
	url := startSignaling(t) + "/late"
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cfg := joinTestConfig(url)
	sessions := joinPlayers(t, ctx, cfg, 2)
	ps := runPlayers(sessions)
	closed := false
	defer func() {
		if !closed {
			ps.stop(t)
			for _, s := range sessions {
				s.Close()
			}
		}
	}()
	for ps.minFrame() < 600 {
		if ctx.Err() != nil {
			t.Fatalf("players stuck at frame %d", ps.minFrame())
		}
		time.Sleep(5 * time.Millisecond)
	}

	sp, err := JoinSpectator(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	watchSpectator(t, ctx, sp, ps)
	checkSpectator(t, sp, FirstSpectatorID, true)
	if n := len(sessions[0].NetStats()); n != 2 {
		t.Errorf("host has %d connections, want 2 (player and spectator)", n)
	}
	if n := len(sessions[1].NetStats()); n != 1 {
		t.Errorf("non-host player has %d connections, want 1", n)
	}
	if err := sp.Close(); err != nil {
		t.Error(err)
	}

	// The host drops the departed spectator's link once the signaling
	// server says it left; the next spectator gets the next id.
	for len(sessions[0].NetStats()) != 1 {
		if ctx.Err() != nil {
			t.Fatal("host kept the departed spectator's link")
		}
		time.Sleep(5 * time.Millisecond)
	}
	sp2, err := JoinSpectator(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	watchSpectator(t, ctx, sp2, ps)
	checkSpectator(t, sp2, FirstSpectatorID+1, true)

	closed = true
	ps.stop(t)
	host := sessions[0].Stats()
	t.Logf("host: %+v", host)
	for _, s := range sessions {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	}
	if err := sp2.Close(); err != nil {
		t.Error(err)
	}
}

// TestJoinSpectatorEarly: a spectator in the room before it starts
// connects to the host as the players connect, and follows from frame 0.
func TestJoinSpectatorEarly(t *testing.T) {
	url := startSignaling(t) + "/early"
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cfg := joinTestConfig(url)

	// A watcher sees the spectator arrive, so the players join only after.
	watcher, err := signaling.Dial(ctx, url, signaling.ClientConfig{Players: 2, Spectator: true})
	if err != nil {
		t.Fatal(err)
	}
	defer watcher.Close()
	var sp *Spectator[rt.Input]
	var spErr error
	spDone := make(chan struct{})
	go func() {
		defer close(spDone)
		sp, spErr = JoinSpectator(ctx, cfg)
	}()
	for {
		ev, err := watcher.Recv(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if j, ok := ev.(*signaling.PeerJoined); ok && j.Peer.Role == signaling.RoleSpectator {
			break
		}
	}
	sessions := joinPlayers(t, ctx, cfg, 2)
	<-spDone
	if spErr != nil {
		for _, s := range sessions {
			s.Close()
		}
		t.Fatal(spErr)
	}
	ps := runPlayers(sessions)
	watchSpectator(t, ctx, sp, ps)
	ps.stop(t)
	checkSpectator(t, sp, FirstSpectatorID, false)
	for _, s := range sessions {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	}
	if err := sp.Close(); err != nil {
		t.Error(err)
	}
}

// TestJoinSpectatorSlotsFull: the host accepts MaxSpectators spectators at
// a time and ignores the next, whose JoinSpectator fails when its context
// ends; non-host players never connect to spectators.
func TestJoinSpectatorSlotsFull(t *testing.T) {
	url := startSignaling(t) + "/full"
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cfg := joinTestConfig(url)
	cfg.MaxSpectators = 1
	sessions := joinPlayers(t, ctx, cfg, 2)
	defer func() {
		for _, s := range sessions {
			s.Close()
		}
	}()
	sp, err := JoinSpectator(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer sp.Close()
	if sp.ID() != FirstSpectatorID {
		t.Errorf("spectator id %d, want %d", sp.ID(), FirstSpectatorID)
	}
	shortCtx, shortCancel := context.WithTimeout(ctx, time.Second)
	defer shortCancel()
	if extra, err := JoinSpectator(shortCtx, cfg); err == nil {
		extra.Close()
		t.Fatal("a spectator beyond MaxSpectators connected")
	}
	if n := len(sessions[0].NetStats()); n != 2 {
		t.Errorf("host has %d connections, want 2", n)
	}
	if n := len(sessions[1].NetStats()); n != 1 {
		t.Errorf("non-host player has %d connections, want 1", n)
	}
}
