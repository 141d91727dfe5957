//go:build !js

package main

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lynnet/lyn/internal/countnet"
	"github.com/lynnet/lyn/netcode"
	"github.com/lynnet/lyn/rollback"
	rt "github.com/lynnet/lyn/rollback/rollbacktest"
	"github.com/lynnet/lyn/signaling"
)

// Input patterns for the game runs.
const (
	inputsHeld      = "held"      // one button combination held all game: predictions never miss
	inputsMashed    = "mashed"    // a new random combination every frame: predictions almost always miss
	inputsReference = "reference" // rollbacktest.ReferenceInput: combinations held 1 to 12 frames
)

// inputPattern returns the input player p gives at frame f.
func inputPattern(kind string, seed uint64) func(rollback.Player, rollback.Frame) rt.Input {
	switch kind {
	case inputsHeld:
		return func(p rollback.Player, _ rollback.Frame) rt.Input { return rt.Right | rt.Input(p&1)*rt.Up }
	case inputsMashed:
		return func(p rollback.Player, f rollback.Frame) rt.Input {
			x := seed ^ uint64(p)<<40 ^ uint64(f)*0x9e3779b97f4a7c15
			x ^= x >> 29
			x *= 0xbf58476d1ce4e5b9
			x ^= x >> 32
			return rt.Input(x) & (rt.Up | rt.Down | rt.Left | rt.Right | rt.Action)
		}
	}
	return rt.ReferenceInput(seed)
}

// gameRun drives player sessions and spectators, each on its own goroutine
// ticking at 60 Hz of real time, as separate game processes would.
type gameRun struct {
	sessions   []*rollback.Session[rt.Input]
	spectators []*rollback.Spectator[rt.Input]
	input      func(rollback.Player, rollback.Frame) rt.Input
}

// gameResult is what a window of play measured.
type gameResult struct {
	window                 time.Duration
	frames, specFrames     uint64 // frames advanced, summed over players / spectators
	rollbacks, resimFrames uint64 // summed over players
	used                   usage
	stalls                 uint64
}

type peerCounters struct {
	running                          atomic.Bool
	frames, rollbacks, resim, stalls atomic.Uint64
}

// play runs the game until every participant advances, then measures a
// window of d; mark(true) and mark(false) bracket the window (for byte
// counters). Sessions and spectators are closed on return.
func (g *gameRun) play(d time.Duration, mark func(begin bool)) (gameResult, error) {
	n := len(g.sessions) + len(g.spectators)
	counters := make([]peerCounters, n)
	errs := make([]error, n)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i, s := range g.sessions {
		c := &counters[i]
		wg.Go(func() {
			p := newPacer()
			defer p.stop()
			var events []rollback.Event
			for p.wait(stop) {
				target := s.Frame() + rollback.Frame(s.InputDelay())
				var err error
				for _, pl := range s.LocalPlayers() {
					err = errors.Join(err, s.AddLocalInput(pl, g.input(pl, target)))
				}
				if err == nil || rollback.IsWait(err) {
					err = s.AdvanceFrame()
				}
				events = s.Events(events[:0])
				st := s.Stats()
				c.frames.Store(st.FramesAdvanced)
				c.rollbacks.Store(st.Rollbacks)
				c.resim.Store(st.RollbackFrames)
				c.stalls.Store(st.Stalls)
				switch {
				case err == nil:
					c.running.Store(true)
				case !rollback.IsWait(err):
					errs[i] = err
					return
				}
			}
		})
	}
	for k, sp := range g.spectators {
		i := len(g.sessions) + k
		c := &counters[i]
		wg.Go(func() {
			p := newPacer()
			defer p.stop()
			var events []rollback.Event
			var frames uint64
			for p.wait(stop) {
				err := sp.AdvanceFrame()
				events = sp.Events(events[:0])
				switch {
				case err == nil:
					frames++
					c.frames.Store(frames)
					c.running.Store(sp.Live())
				case !rollback.IsWait(err):
					errs[i] = err
					return
				}
			}
		})
	}
	finish := func() error {
		close(stop)
		wg.Wait()
		for _, s := range g.sessions {
			s.Close()
		}
		for _, sp := range g.spectators {
			sp.Close()
		}
		return errors.Join(errs...)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		all := true
		for i := range counters {
			all = all && counters[i].running.Load()
		}
		if all {
			break
		}
		if time.Now().After(deadline) || errors.Join(errs...) != nil {
			return gameResult{}, errors.Join(errors.New("the game did not start within 10 s"), finish())
		}
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond) // settle: catch-up, SCTP windows
	sum := func() (r gameResult) {
		for i := range counters {
			c := &counters[i]
			if i < len(g.sessions) {
				r.frames += c.frames.Load()
				r.rollbacks += c.rollbacks.Load()
				r.resimFrames += c.resim.Load()
				r.stalls += c.stalls.Load()
			} else {
				r.specFrames += c.frames.Load()
			}
		}
		return r
	}
	mark(true)
	r0, u := sum(), readUsage()
	time.Sleep(d)
	used, r1 := u.since(), sum()
	mark(false)
	r := gameResult{window: time.Since(u.wall), used: used,
		frames: r1.frames - r0.frames, specFrames: r1.specFrames - r0.specFrames,
		rollbacks: r1.rollbacks - r0.rollbacks, resimFrames: r1.resimFrames - r0.resimFrames,
		stalls: r1.stalls - r0.stalls}
	return r, finish()
}

// signalServer is a lyn signaling server on loopback.
type signalServer struct {
	srv  *signaling.Server
	hs   *httptest.Server
	base string
	room atomic.Int64
}

func newSignalServer() *signalServer {
	srv := signaling.NewServer(signaling.Config{})
	hs := httptest.NewServer(srv) // 127.0.0.1:0
	return &signalServer{srv: srv, hs: hs, base: "ws" + strings.TrimPrefix(hs.URL, "http")}
}

func (s *signalServer) newRoom(prefix string) string {
	return fmt.Sprintf("%s/%s-%d", s.base, prefix, s.room.Add(1))
}

func (s *signalServer) close() {
	s.hs.Close()
	s.srv.Shutdown(context.Background())
}

// joinedGame is players and spectators that joined one room over WebRTC.
type joinedGame struct {
	players    []*netcode.Session[rt.Input]
	spectators []*netcode.Spectator[rt.Input]
	nets       []*countnet.Net // per player, when counted
}

// joinGame joins players players (and then spectators spectators) to a
// fresh room. With count, every player's pion sockets are counted.
func joinGame(ctx context.Context, sig *signalServer, players, spectators int, count bool, netCfg netcode.Config) (*joinedGame, error) {
	url := sig.newRoom("bench")
	g := &joinedGame{players: make([]*netcode.Session[rt.Input], players), nets: make([]*countnet.Net, players)}
	errs := make([]error, players)
	var wg sync.WaitGroup
	for i := range players {
		cfg := netCfg
		if count {
			n, err := countnet.New()
			if err != nil {
				return nil, err
			}
			g.nets[i], cfg.Net = n, n
		}
		wg.Go(func() {
			g.players[i], errs[i] = netcode.Join(ctx, joinConfig(url, players, cfg))
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		g.close()
		return nil, err
	}
	for range spectators {
		sp, err := netcode.JoinSpectator(ctx, joinConfig(url, 0, netCfg))
		if err != nil {
			g.close()
			return nil, fmt.Errorf("spectator: %w", err)
		}
		g.spectators = append(g.spectators, sp)
	}
	return g, nil
}

func joinConfig(url string, players int, cfg netcode.Config) netcode.JoinConfig[rt.Input] {
	return netcode.JoinConfig[rt.Input]{
		URL: url, Players: players, Codec: inputCodec, Net: cfg,
		NewGame: func(seed uint64, players int) rollback.Game[rt.Input] { return rt.NewGame(players, seed) },
	}
}

// run returns the gameRun over g's sessions.
func (g *joinedGame) run(input func(rollback.Player, rollback.Frame) rt.Input) *gameRun {
	r := &gameRun{input: input}
	for _, s := range g.players {
		r.sessions = append(r.sessions, s.Session)
	}
	for _, sp := range g.spectators {
		r.spectators = append(r.spectators, sp.Spectator)
	}
	return r
}

// close closes the connections (the sessions are closed by play).
func (g *joinedGame) close() {
	for _, s := range g.players {
		if s != nil {
			s.Close()
		}
	}
	for _, sp := range g.spectators {
		sp.Close()
	}
}
