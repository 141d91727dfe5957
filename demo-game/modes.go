//go:build !js

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lynnet/lyn/internal/cputime"

	"github.com/pion/webrtc/v4"

	"github.com/lynnet/lyn/demo-game/internal/delaynet"
	"github.com/lynnet/lyn/demo-game/sim"
	"github.com/lynnet/lyn/demo-game/web"
	"github.com/lynnet/lyn/netcode"
	"github.com/lynnet/lyn/rollback"
)

// runner runs one mode of the demo.
type runner struct {
	o              *options
	stdout, stderr io.Writer
	log            *slog.Logger
}

func (r *runner) run(ctx context.Context) error {
	switch {
	case r.o.replay != "":
		return r.runReplay(ctx)
	case r.o.syncTest:
		return r.runSyncTest(ctx)
	case r.o.join != "":
		return r.play(ctx, r.o.join, "Connecting to "+r.o.join+"…", nil)
	case r.o.host != "":
		return r.runHost(ctx)
	default:
		return r.runEmbedded(ctx)
	}
}

// runEmbedded starts a signaling server and relay on loopback, the bots,
// and this player (or, headless, a bot in its seat too).
func (r *runner) runEmbedded(ctx context.Context) error {
	srv, err := startServer(serverConfig{Addr: "127.0.0.1:0", RelayAddr: "127.0.0.1:0", LoopbackPeers: true, Logger: r.log})
	if err != nil {
		return err
	}
	defer srv.Close()
	room := srv.roomURL("", r.o.room)
	bots, err := r.botConfigs(room, r.o.bots, true)
	if err != nil {
		return err
	}
	if r.o.headless {
		// Every seat is a bot: this process's "own" peer is the first,
		// without the bots' delay, the others behind it.
		self := r.selfConfig(room)
		self.Bot, self.Net.LoopbackOnly = true, true
		return r.headless(ctx, append([]netMatchConfig{self}, bots[1:]...), 0)
	}
	self := r.selfConfig(room)
	self.Net.LoopbackOnly = true
	self.OthersName = "bot"
	// The room orders players as they join: the bots wait until this
	// player is in, so the person at the keyboard is player 1.
	return r.window(ctx, self, "Starting the bots…", bots, func(ctx context.Context) { srv.waitPeers(ctx, 1) })
}

// runHost serves signaling, STUN/TURN and the browser build, prints how a
// friend joins, and plays in the room.
func (r *runner) runHost(ctx context.Context) error {
	o := r.o
	var public netip.Addr
	var err error
	if o.publicIP != "" {
		public = netip.MustParseAddr(o.publicIP) // checked with the flags
	} else if public, err = publicIPv4(); err != nil {
		return err
	}
	relayAddr, _ := relayAddrFor(o.host) // checked with the flags
	relayLo, relayHi, _ := parsePortRange(o.relayPorts)
	var secret []byte
	if o.turnSecret != "" {
		secret = []byte(o.turnSecret)
	}
	var webH http.Handler
	webErr := errors.New("-web=false")
	if o.web {
		var h *web.Handler
		var stopWeb func()
		if h, stopWeb, webErr = webHandler(r.log); webErr == nil {
			webH = h
			defer stopWeb() // after the server below has stopped serving it
		}
	}
	srv, err := startServer(serverConfig{Addr: o.host, RelayAddr: relayAddr, PublicIP: public, Secret: secret,
		RelayPortMin: relayLo, RelayPortMax: relayHi, Web: webH, Logger: r.log})
	if err != nil {
		return err
	}
	defer srv.Close()
	friendURL := srv.roomURL(public.String(), o.room)
	joinCmd := "go run ./demo-game -join " + friendURL
	if o.players != 2 {
		joinCmd += fmt.Sprintf(" -players %d", o.players)
	}
	fmt.Fprintf(r.stdout, "lyn demo: hosting room %q for %d players on %s\n", o.room, o.players, srv.addr)
	fmt.Fprintf(r.stdout, "  a friend with Go (in a lyn checkout): %s\n", joinCmd)
	if webErr == nil {
		origin := "http://" + netip.AddrPortFrom(public, uint16(srv.port())).String()
		fmt.Fprintf(r.stdout, "  a friend with a browser:            %s\n", web.JoinURL(origin, web.Options{Room: o.room, Players: o.players, Delay: web.DefaultDelay}))
	} else {
		fmt.Fprintf(r.stdout, "  (no browser build: %v)\n", webErr)
	}
	fmt.Fprintf(r.stdout, "  STUN/TURN for them: %v\n", srv.iceURLs)
	fmt.Fprintf(r.stdout, "  open TCP port %d, UDP port %d and UDP ports %s in your firewall or router\n", srv.port(), srv.relayPort(), o.relayPorts)
	if o.publicIP == "" && public.IsPrivate() {
		fmt.Fprintf(r.stdout, "  note: %s is a private address, reachable only on your own network; for friends elsewhere, forward the ports above on your router and give -public-ip <your public IPv4>\n", public)
	}
	if o.serve {
		fmt.Fprintf(r.stdout, "  serving until interrupted (Ctrl-C)\n")
		<-ctx.Done()
		return nil
	}
	bots, err := r.botConfigs(srv.roomURL("", o.room), o.bots, o.loopback)
	if err != nil {
		return err
	}
	return r.play(ctx, srv.roomURL("", o.room), "Waiting for players: "+joinCmd, bots)
}

// selfConfig is this process's own peer in room.
func (r *runner) selfConfig(room string) netMatchConfig {
	o := r.o
	cfg := netMatchConfig{
		URL: room, Players: o.players, Spectate: o.spectate, InputDelay: o.delay,
		Logger: r.log, FrameRate: sim.TicksPerSecond,
		Net: netcode.Config{ICEServers: append(slices.Clone(o.stun), o.turn...), LoopbackOnly: o.loopback},
	}
	if o.relay {
		cfg.Net.ICETransportPolicy = webrtc.ICETransportPolicyRelay
	}
	// In the window too: the match is over (the window keeps its last
	// picture) once -frames are confirmed.
	cfg.Frames = rollback.Frame(o.frames)
	if o.headless {
		cfg.Bot, cfg.FrameRate = true, o.fps
	}
	return cfg
}

// botConfigs makes n bot peers for room, each behind its own delaying
// network.
func (r *runner) botConfigs(room string, n int, loopback bool) ([]netMatchConfig, error) {
	var out []netMatchConfig
	for i := range n {
		dn, err := delaynet.New(delaynet.Config{RTT: r.o.botRTT, Jitter: r.o.botJitter, Seed: uint64(i + 1)})
		if err != nil {
			return nil, err
		}
		cfg := netMatchConfig{URL: room, Players: r.o.players, Bot: true, InputDelay: r.o.delay, Logger: r.log,
			FrameRate: sim.TicksPerSecond, Net: netcode.Config{Net: dn, LoopbackOnly: loopback}}
		if r.o.relay {
			cfg.Net.ICETransportPolicy = webrtc.ICETransportPolicyRelay
		}
		if r.o.headless {
			cfg.Frames, cfg.FrameRate = rollback.Frame(r.o.frames), r.o.fps
		}
		out = append(out, cfg)
	}
	return out, nil
}

// play runs this peer in room, with bots beside it: in the window, or
// headless. linger says other processes' peers may be in the room (so a
// headless peer keeps playing a little after its last frame for them).
func (r *runner) play(ctx context.Context, room, waitBanner string, bots []netMatchConfig) error {
	self := r.selfConfig(room)
	if r.o.headless {
		linger := 2 * time.Second
		return r.headless(ctx, append([]netMatchConfig{self}, bots...), linger)
	}
	return r.window(ctx, self, waitBanner, bots, nil)
}

// window runs this peer in the window and the bots in the background; with
// selfJoined set, the bots start once it returns (this peer is in the room).
func (r *runner) window(ctx context.Context, self netMatchConfig, waitBanner string, bots []netMatchConfig, selfJoined func(context.Context)) error {
	rec, err := r.openRecording()
	if err != nil {
		return err
	}
	self.Record = rec
	ctx, cancel := context.WithCancel(ctx)
	m := startJoining(ctx, self, waitBanner)
	var wg sync.WaitGroup
	botErrs := make(chan error, len(bots))
	wg.Go(func() {
		if selfJoined != nil {
			selfJoined(ctx)
		}
		for i, bc := range bots {
			wg.Go(func() {
				if err := r.runBot(ctx, bc); err != nil && ctx.Err() == nil {
					botErrs <- fmt.Errorf("bot %d: %w", i+1, err)
				}
			})
		}
	})
	seats := 1
	if self.Spectate {
		seats = 0
	}
	werr := r.showWindow(ctx, m, windowConfig{Title: "lyn demo", ShowOverlay: r.o.overlay, Seats: seats})
	cancel()
	cerr := m.Close()
	wg.Wait()
	close(botErrs)
	errs := []error{werr, cerr, r.closeRecording(self.Record)}
	for e := range botErrs {
		errs = append(errs, e)
	}
	return errors.Join(errs...)
}

// runBot plays a bot peer until ctx ends.
func (r *runner) runBot(ctx context.Context, cfg netMatchConfig) error {
	m, err := joinMatch(ctx, cfg)
	if err != nil {
		return err
	}
	defer m.Close()
	return drive(ctx, m, cfg.FrameRate, nil)
}

// drive ticks m at fps until stop is closed (nil: never) or ctx ends; a
// Tick error ends it.
func drive(ctx context.Context, m liveMatch, fps int, stop <-chan struct{}) error {
	t := time.NewTicker(tickInterval(max(fps, 1)))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-stop:
			return nil
		case <-t.C:
		}
		if err := m.Tick(nil); err != nil {
			return err
		}
	}
}

// openRecording creates the -record file (nil when not recording).
func (r *runner) openRecording() (io.Writer, error) {
	if r.o.record == "" {
		return nil, nil
	}
	f, err := os.Create(r.o.record)
	if err != nil {
		return nil, fmt.Errorf("-record: %w", err)
	}
	return f, nil
}

func (r *runner) closeRecording(w io.Writer) error {
	f, ok := w.(*os.File)
	if !ok || f == nil {
		return nil
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("-record: %w", err)
	}
	return nil
}

// headless runs every peer in cfgs in this process to its last frame,
// prints their stats and checks that they agree. The first peer records
// with -record. linger keeps them playing after the last one got there,
// for peers in other processes.
func (r *runner) headless(ctx context.Context, cfgs []netMatchConfig, linger time.Duration) error {
	timeout := r.o.timeout
	if timeout == 0 {
		timeout = 60*time.Second + 4*time.Duration(r.o.frames)*tickInterval(r.o.fps)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	rec, err := r.openRecording()
	if err != nil {
		return err
	}
	cfgs[0].Record = rec
	before := cpuTime()
	start := time.Now()

	n := len(cfgs)
	matches := make([]*netMatch, n)
	errs := make([]error, n)
	var reachedCount sync.WaitGroup
	reachedCount.Add(n)
	allReached := make(chan struct{})
	var failedEarly atomic.Bool // a peer stopped before its last frame
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i, cfg := range cfgs {
		wg.Go(func() {
			reached := false
			defer func() {
				if !reached {
					failedEarly.Store(true)
					reachedCount.Done()
				}
			}()
			m, err := joinMatch(ctx, cfg)
			if err != nil {
				errs[i] = fmt.Errorf("peer %d: joining: %w", i+1, err)
				return
			}
			matches[i] = m
			t := time.NewTicker(tickInterval(r.o.fps))
			defer t.Stop()
			for {
				select {
				case <-ctx.Done():
					if !reached {
						errs[i] = fmt.Errorf("peer %d: frame %d of %d after %v: %w", i+1, m.hud.Frame, r.o.frames, time.Since(start).Round(time.Millisecond), ctx.Err())
					}
					return
				case <-stop:
					return
				case <-t.C:
				}
				if err := m.Tick(nil); err != nil {
					errs[i] = fmt.Errorf("peer %d: %w", i+1, err)
					return
				}
				if !reached && m.hud.Done {
					reached = true
					reachedCount.Done()
				}
			}
		})
	}
	go func() {
		reachedCount.Wait()
		close(allReached)
	}()
	select {
	case <-allReached:
		// Linger (for peers in other processes) only when every local
		// peer got there; a failed one ended the run already.
		if linger > 0 && !failedEarly.Load() {
			select {
			case <-time.After(linger):
			case <-ctx.Done():
			}
		}
	case <-ctx.Done():
	}
	close(stop)
	wg.Wait()
	<-allReached
	played := time.Since(start)
	used := cpuTime() - before

	var closeErrs []error
	var reports []matchReport
	for i, m := range matches {
		if m == nil {
			continue
		}
		reports = append(reports, m.report())
		if err := m.Close(); err != nil {
			closeErrs = append(closeErrs, fmt.Errorf("peer %d: closing: %w", i+1, err))
		}
	}
	if err := r.closeRecording(rec); err != nil {
		closeErrs = append(closeErrs, err)
	}
	if len(reports) == 0 {
		return errors.Join(append(errs, closeErrs...)...)
	}
	agreed := r.printReports(reports, n)
	// CPU per peer at the game's 60 Hz: the CPU time of one peer's frame,
	// times 60 (the run may have been paced faster, -fps, or slower, when
	// peers stalled on a loaded machine).
	gameSeconds := float64(r.o.frames) / sim.TicksPerSecond
	fmt.Fprintf(r.stdout, "cpu: %.2f s (user+sys) for %d peers × %d frames in %.2f s: %.1f%% of one core per peer at 60 Hz\n",
		used.Seconds(), n, r.o.frames, played.Seconds(), 100*used.Seconds()/gameSeconds/float64(n))
	if err := errors.Join(append(errs, closeErrs...)...); err != nil {
		return err
	}
	if !agreed {
		return fmt.Errorf("%w: the peers did not agree", errMatch)
	}
	return nil
}

// printReports prints one line per peer and the final checksum, and says
// whether every peer got there with the same one and no desync.
func (r *runner) printReports(reports []matchReport, peers int) bool {
	agreed := len(reports) == peers
	var sum uint64
	for i, rep := range reports {
		who := seatName(rep.Player)
		fmt.Fprintf(r.stdout, "peer %d, %s: frame %d, %d rollbacks (deepest p99 %d frames), %d stalls, %d checksums compared, %d desyncs",
			i+1, who, rep.Frames, rep.Rollbacks, rep.RollbackDepth, rep.Stalls, rep.Compared, rep.Desyncs)
		if len(rep.Disconnects) > 0 {
			fmt.Fprintf(r.stdout, ", disconnected: %s", strings.Join(rep.Disconnects, ", "))
		}
		for _, p := range rep.Peers {
			fmt.Fprintf(r.stdout, "; %s: ping %v, %s, %.1f/%.1f kbps in/out", p.Name, p.Ping.Round(time.Millisecond), orUnknown(p.Candidate), p.KbpsIn, p.KbpsOut)
		}
		fmt.Fprintln(r.stdout)
		// Agreement: the target frame reached with every player still
		// in, checksums compared with the other peers on the way (so
		// agreement with peers in other processes is shown too), and
		// none differed.
		if !rep.Reached || rep.Desyncs > 0 || rep.Compared == 0 ||
			(rep.FirstDisconnect != rollback.NoFrame && rep.FirstDisconnect < rollback.Frame(r.o.frames)) {
			agreed = false
			continue
		}
		if i == 0 {
			sum = rep.FinalChecksum
		} else if rep.FinalChecksum != sum {
			agreed = false
		}
	}
	for i, rep := range reports {
		if rep.Reached {
			fmt.Fprintf(r.stdout, "peer %d, %s: checksum at frame %d: %016x\n", i+1, seatName(rep.Player), r.o.frames, rep.FinalChecksum)
		}
	}
	if agreed {
		fmt.Fprintf(r.stdout, "final checksum at frame %d: %016x (all %d peers agree)\n", r.o.frames, sum, peers)
	} else {
		fmt.Fprintf(r.stdout, "MISMATCH: the peers did not all reach frame %d with the same checksum and no desync\n", r.o.frames)
	}
	return agreed
}

func seatName(player int) string {
	if player < 0 {
		return "spectator"
	}
	return fmt.Sprintf("player %d", player+1)
}

func orUnknown(s string) string {
	if s == "" {
		return "candidate unknown"
	}
	return s
}

// runReplay plays a recording back in the window, or headless as fast as
// it goes, and fails if it does not reproduce every checksum.
func (r *runner) runReplay(ctx context.Context) error {
	f, err := os.Open(r.o.replay)
	if err != nil {
		return fmt.Errorf("-replay: %w", err)
	}
	defer f.Close()
	m, err := openReplay(f)
	if err != nil {
		return fmt.Errorf("-replay %s: %w", r.o.replay, err)
	}
	if r.o.headless {
		for !m.done {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if r.o.frames > 0 && m.frames >= r.o.frames {
				break
			}
			if err := m.Tick(nil); err != nil {
				return err
			}
		}
	} else if err := r.showWindow(ctx, m, windowConfig{Title: "lyn demo: replay of " + r.o.replay, ShowOverlay: r.o.overlay}); err != nil {
		return err
	}
	if m.err != nil {
		return fmt.Errorf("-replay %s: %w", r.o.replay, m.err)
	}
	fmt.Fprintf(r.stdout, "replay %s: %d frames, %d checksums verified, final checksum %016x\n", r.o.replay, m.frames, m.verified, m.game.Checksum())
	return nil
}

// runSyncTest checks the sim for determinism under rollback's sync-test.
func (r *runner) runSyncTest(ctx context.Context) error {
	g := sim.New(1, r.o.players)
	seats := 1
	if r.o.headless {
		seats = 0
	}
	m, err := newSyncTest(g, g, seats, rollback.Frame(r.o.frames), r.o.checkDistance)
	if err != nil {
		return err
	}
	if r.o.headless {
		if err := runSyncTestHeadless(ctx, m); err != nil {
			return err
		}
	} else {
		m.frames = 0 // play until the window closes
		if err := r.showWindow(ctx, m, windowConfig{Title: "lyn demo: sync test", ShowOverlay: r.o.overlay, Seats: seats}); err != nil {
			return err
		}
	}
	if m.err != nil {
		return fmt.Errorf("sync test: %w", m.err)
	}
	fmt.Fprintf(r.stdout, "sync test passed: %d frames, %d players, every frame simulated again %d frames back with the same checksum\n",
		m.st.Frame(), g.Players(), r.o.checkDistance)
	return nil
}

func runSyncTestHeadless(ctx context.Context, m *syncTestMatch) error {
	for !m.done {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err := m.Tick(nil); err != nil {
			return err
		}
	}
	return nil
}

// cpuTime is the process's CPU time (user and system) so far: on a shared
// machine it measures our cost where wall time measures the neighbours too.
// 0 where the platform does not say.
func cpuTime() time.Duration {
	d, _ := cputime.Process()
	return d
}
