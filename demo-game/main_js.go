//go:build js

package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"syscall/js"
	"time"

	"github.com/hajimehoshi/ebiten/v2"
	"github.com/hajimehoshi/ebiten/v2/ebitenutil"

	"github.com/lynnet/lyn/demo-game/sim"
	"github.com/lynnet/lyn/demo-game/view"
	"github.com/lynnet/lyn/demo-game/web"
	"github.com/lynnet/lyn/netcode"
	"github.com/lynnet/lyn/rollback"
)

// main is the browser build's entry: the page (demo-game/web) loads it.
// It reads the page's options from its URL, joins the room over WebRTC (the
// browser's RTCPeerConnection, wrapped by pion) and plays in the canvas.
// What a test or a curious person needs is reported in window.lyn.status.
func main() {
	page := js.Global().Get("lyn")
	if page.IsUndefined() {
		// Not our page: nothing to report to.
		js.Global().Get("console").Call("error", "lyn: window.lyn missing; load the demo through its page")
		return
	}
	if err := browserMain(page); err != nil {
		page.Call("fail", err.Error())
	}
}

func browserMain(page js.Value) error {
	href := js.Global().Get("location").Get("href").String()
	opts, err := web.ParseOptions(href, page.Get("signalPath").String())
	if err != nil {
		return err
	}
	if opts.LoopbackOnly {
		page.Call("loopbackOnly")
	}
	status := page.Get("status")
	status.Set("state", "joining")
	status.Set("signal", opts.Signal)
	page.Call("show", fmt.Sprintf("joining %s\nwaiting for %d players…", opts.Signal, opts.Players))

	// The canvas runs from the start, showing the empty arena, and joins
	// once it has drawn a frame: Ebiten's first frame (shader compilation,
	// font rasterization) can take seconds on software WebGL, which must
	// not happen while a WebSocket or a peer waits for this page.
	g := &browserGame{page: page, status: status, bot: opts.Bot, opts: opts,
		game: sim.New(0, opts.Players), joined: make(chan browserJoin, 1), firstDraw: true}
	g.view = view.Options{Local: -1}
	g.banner = fmt.Sprintf("waiting for %d players in %s", opts.Players, opts.Signal)
	ebiten.SetWindowTitle("lyn demo")
	ebiten.SetRunnableOnUnfocused(true)
	err = ebiten.RunGame(g)
	if g.sess != nil {
		g.sess.Close()
	}
	if err != nil && !errors.Is(err, ebiten.Termination) {
		return err
	}
	return nil
}

// browserJoin is the outcome of netcode.Join.
type browserJoin struct {
	sess *netcode.Session[sim.Input]
	game *sim.Game
	err  error
}

// join joins the room (it returns once the room is full and every peer is
// connected) and hands the session to Update.
func (g *browserGame) join() {
	rec := &browserRecorder{status: g.status, sums: g.status.Get("checksums")}
	var game *sim.Game
	sess, err := netcode.Join(context.Background(), netcode.JoinConfig[sim.Input]{
		URL:     g.opts.Signal,
		Players: g.opts.Players,
		Codec:   sim.Codec{},
		NewGame: func(seed uint64, players int) rollback.Game[sim.Input] {
			game = sim.New(seed, players)
			return game
		},
		Session: rollback.Config[sim.Input]{
			InputDelay:        g.opts.Delay,
			Recorder:          rec,
			DisconnectTimeout: g.opts.Timeout,
		},
		Logger: slog.New(slog.NewTextHandler(browserConsole{}, &slog.HandlerOptions{Level: slog.LevelInfo})),
	})
	if err != nil {
		err = fmt.Errorf("joining %s: %w", g.opts.Signal, err)
	}
	g.joined <- browserJoin{sess: sess, game: game, err: err}
}

// browserGame is the Ebiten game of the browser build: one local player
// over a netcode session.
type browserGame struct {
	page, status js.Value
	opts         web.Options
	joined       chan browserJoin
	sess         *netcode.Session[sim.Input] // nil until joined
	game         *sim.Game                   // an empty arena until joined
	bot          bool
	view         view.Options

	events      []rollback.Event
	peers       []rollback.PeerStats
	banner      string
	framesAhead float32
	skipped     int
	drawn       bool
	firstDraw   bool
	ticks       int
	draws       int
	drawTime    time.Duration
	stalls      int
}

func (g *browserGame) Update() error {
	g.ticks++
	g.status.Set("ticks", g.ticks)
	if g.sess == nil {
		select {
		case j := <-g.joined:
			if j.err != nil {
				return j.err
			}
			g.startMatch(j)
		default:
			return nil
		}
	}
	local := g.sess.LocalPlayer()
	var in sim.Input
	if g.bot {
		in = sim.Bot(g.game, int(local))
	} else {
		in = browserKeys()
	}
	// Time sync: a peer ahead of the others skips a tick now and then, so
	// nobody waits at the prediction limit.
	if g.framesAhead >= 1 {
		g.skipped++
		if g.skipped%6 == 0 {
			g.framesAhead--
			return g.poll()
		}
	}
	if err := g.sess.AddLocalInput(local, in); err != nil && !errors.Is(err, rollback.ErrNotSynchronized) {
		return err
	}
	if err := g.sess.AdvanceFrame(); err != nil && !rollback.IsWait(err) {
		return err
	} else if err != nil {
		g.stalls++
	}
	return g.poll()
}

// startMatch switches from the waiting screen to the match.
func (g *browserGame) startMatch(j browserJoin) {
	g.sess, g.game, g.banner = j.sess, j.game, ""
	local := int(j.sess.LocalPlayer())
	names := make([]string, j.game.Players())
	names[local] = g.opts.Name
	if g.opts.Bot && g.opts.Name == "" {
		names[local] = "bot"
	}
	g.view = view.Options{Local: local, Names: names}
	g.page.Call("mark", "joined")
	g.status.Set("state", "connected")
	g.status.Set("player", local)
	g.page.Call("show", "")
	browserLog(fmt.Sprintf("joined as player %d of %d", local+1, j.game.Players()))
}

// poll reads the session's events and reports progress to the page.
func (g *browserGame) poll() error {
	g.events = g.sess.Events(g.events[:0])
	for _, e := range g.events {
		switch e.Kind {
		case rollback.EventTimeSync:
			g.framesAhead = e.FramesAhead
		case rollback.EventPeerInterrupted:
			g.banner = fmt.Sprintf("peer %d is not answering…", e.Peer)
		case rollback.EventPeerResumed:
			g.banner = ""
		case rollback.EventPeerDisconnected:
			g.banner = fmt.Sprintf("player %d left at frame %d", e.Player+1, e.Frame)
		case rollback.EventDesync:
			g.banner = fmt.Sprintf("DESYNC at frame %d", e.Frame)
			g.status.Set("desync", e.Err.Error())
		}
		if e.Kind != rollback.EventTimeSync {
			browserLog(e.String())
		}
	}
	g.status.Set("frame", int(g.sess.Frame()))
	g.status.Set("confirmed", int(g.sess.ConfirmedFrame()))
	if g.sess.Running() {
		g.status.Set("state", "running")
	}
	return nil
}

func (g *browserGame) Draw(screen *ebiten.Image) {
	t0 := time.Now()
	defer g.timeDraw(t0)
	view.Draw(screen, g.game, g.view)
	if g.sess == nil {
		if g.firstDraw {
			g.firstDraw = false
			g.page.Call("mark", "firstDraw")
			g.page.Call("show", "")
			go g.join()
		}
		ebitenutil.DebugPrint(screen, g.banner)
		return
	}
	st := g.sess.Stats()
	line := fmt.Sprintf("frame %d  delay %d  rollbacks %d", st.Frame, g.sess.InputDelay(), st.Rollbacks)
	g.peers = g.sess.AppendPeerStats(g.peers[:0])
	for _, p := range g.peers {
		line += fmt.Sprintf("  peer %d: ping %v", p.Peer, p.RTT)
	}
	if g.banner != "" {
		line += "\n" + g.banner
	}
	ebitenutil.DebugPrint(screen, line)
	if !g.drawn && g.sess.Running() {
		g.drawn = true
		g.page.Call("mark", "firstFrame")
		browserLog("first frame drawn")
	}
}

// timeDraw reports the mean time of Draw (the Go side of it) to the page.
func (g *browserGame) timeDraw(t0 time.Time) {
	g.drawTime += time.Since(t0)
	g.draws++
	g.status.Set("drawMs", float64(g.drawTime.Microseconds())/1e3/float64(g.draws))
}

func (g *browserGame) Layout(w, h int) (int, int) { return w, h }

// browserKeys reads the keyboard: arrows or WASD to move, Space, Enter or
// Shift to dash.
func browserKeys() sim.Input {
	var in sim.Input
	pressed := func(keys ...ebiten.Key) bool {
		for _, k := range keys {
			if ebiten.IsKeyPressed(k) {
				return true
			}
		}
		return false
	}
	if pressed(ebiten.KeyArrowUp, ebiten.KeyW) {
		in |= sim.Up
	}
	if pressed(ebiten.KeyArrowDown, ebiten.KeyS) {
		in |= sim.Down
	}
	if pressed(ebiten.KeyArrowLeft, ebiten.KeyA) {
		in |= sim.Left
	}
	if pressed(ebiten.KeyArrowRight, ebiten.KeyD) {
		in |= sim.Right
	}
	if pressed(ebiten.KeySpace, ebiten.KeyEnter, ebiten.KeyShiftLeft, ebiten.KeyShiftRight) {
		in |= sim.Dash
	}
	return in
}

// browserRecorder reports every confirmed checksum to the page
// (window.lyn.status.checksums, frame → hex), keeping the last few.
type browserRecorder struct {
	status, sums js.Value
	frames       []rollback.Frame
}

const browserKeptChecksums = 64

func (r *browserRecorder) RecordFrame(rollback.Frame, []rollback.PlayerInput[sim.Input]) {}

func (r *browserRecorder) RecordChecksum(f rollback.Frame, sum uint64) {
	r.sums.Set(strconv.Itoa(int(f)), fmt.Sprintf("%016x", sum))
	r.frames = append(r.frames, f)
	if len(r.frames) > browserKeptChecksums {
		r.sums.Delete(strconv.Itoa(int(r.frames[0])))
		r.frames = r.frames[1:]
	}
	r.status.Set("lastChecksumFrame", int(f))
}

// browserConsole writes slog lines to the browser's console.
type browserConsole struct{}

func (browserConsole) Write(b []byte) (int, error) {
	js.Global().Get("console").Call("log", "lyn: "+string(b))
	return len(b), nil
}

func browserLog(s string) { js.Global().Get("console").Call("log", "lyn: "+s) }
