//go:build js

package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"syscall/js"

	"github.com/lynnet/lyn/demo-game/sim"
	"github.com/lynnet/lyn/demo-game/web"
	"github.com/lynnet/lyn/rollback"
)

// main is the browser build's entry; the page served by demo-game/web loads
// it. It reads the page's options from its URL (web.ParseOptions), joins
// the room over WebRTC (netcode wraps the browser's RTCPeerConnection) with
// the same network match as the native demo (match.go) and plays it in the
// same Ebiten window (window.go), which is the page's canvas. Progress, the
// final checksum and timings go to window.lyn.status and window.lyn.times
// for tests and curious people.
func main() {
	page := js.Global().Get("lyn")
	if page.IsUndefined() {
		js.Global().Get("console").Call("error", "lyn: window.lyn missing; load the demo through its page")
		return
	}
	if err := browserMain(page); err != nil {
		page.Call("fail", err.Error())
	}
}

func browserMain(page js.Value) error {
	opts, err := web.ParseOptions(js.Global().Get("location").Get("href").String(), page.Get("signalPath").String())
	if err != nil {
		return err
	}
	if opts.LoopbackOnly {
		page.Call("loopbackOnly")
	}
	logger := slog.New(slog.NewTextHandler(browserConsole{}, &slog.HandlerOptions{Level: slog.LevelInfo}))
	status := page.Get("status")
	status.Set("state", "starting")
	status.Set("signal", opts.Signal)
	page.Call("show", "")
	seats := 1
	if opts.Bot {
		seats = 0
	}
	bm := &browserMatch{
		page: page, status: status, opts: opts,
		cfg: netMatchConfig{
			URL:               opts.Signal,
			Players:           opts.Players,
			InputDelay:        opts.Delay,
			Bot:               opts.Bot,
			Frames:            rollback.Frame(opts.Frames),
			DisconnectTimeout: opts.Timeout,
			Logger:            logger,
		},
		waiting: sim.New(1, opts.Players),
		hud:     hud{Local: -1, Names: playerNames(nil, opts.Players), Banner: "Loading…"},
	}
	defer bm.Close()
	err = runWindow(bm, windowConfig{Seats: seats, Logger: logger})
	if err != nil {
		return err
	}
	if !bm.hud.Done {
		return errors.New("the game loop ended; reload the page to play again")
	}
	return nil
}

// The join waits until the canvas has drawn a frame: the first frame
// (shader compilation, glyphs) can take seconds on software WebGL, and must
// not happen while a WebSocket or a peer waits for this page. The window
// asks for Game only to draw it, so a Tick after a Game call comes after a
// drawn frame.

// browserMatch is the page's liveMatch: an empty arena until the canvas has
// drawn, then a joiningMatch; it reports progress to the page.
type browserMatch struct {
	page, status js.Value
	opts         web.Options
	cfg          netMatchConfig

	ticks   int
	drawing bool          // Game was called: a frame is being (or was) drawn
	join    *joiningMatch // nil until started
	waiting *sim.Game
	hud     hud

	connected, running, reported bool
}

func (b *browserMatch) Tick(local []sim.Input) error {
	b.ticks++
	if b.join == nil {
		if !b.drawing {
			return nil
		}
		b.page.Call("mark", "firstDraw")
		b.status.Set("state", "joining")
		banner := fmt.Sprintf("Waiting for %d players in %s…", b.opts.Players, b.opts.Signal)
		b.hud.Banner = banner
		b.join = startJoining(context.Background(), b.cfg, banner)
	}
	if err := b.join.Tick(local); err != nil {
		return err
	}
	b.report()
	return nil
}

// report tells the page how the match goes.
func (b *browserMatch) report() {
	m := b.join.match()
	if m == nil || m.sess == nil {
		return
	}
	st := b.status
	if !b.connected {
		b.connected = true
		local := m.sess.LocalPlayer()
		if b.opts.Name != "" && local >= 0 && local < len(m.names) {
			m.names[local] = b.opts.Name // the HUD shares this slice
		}
		b.page.Call("mark", "joined")
		st.Set("state", "connected")
		st.Set("player", local)
	}
	st.Set("frame", int(m.sess.Frame()))
	st.Set("confirmed", int(m.sess.ConfirmedFrame()))
	st.Set("desyncs", m.desyncs)
	if m.desync != nil {
		st.Set("desync", m.desync.Error())
	}
	if !b.running && m.sess.Running() {
		b.running = true
		b.page.Call("mark", "running")
		st.Set("state", "running")
	}
	if m.confirmed.reached && !b.reported {
		b.reported = true
		st.Set("finalFrame", int(m.cfg.Frames))
		st.Set("finalChecksum", fmt.Sprintf("%016x", m.confirmed.sum))
		st.Set("state", "done")
		b.page.Call("mark", "done")
		browserLog(fmt.Sprintf("frame %d confirmed, checksum %016x", m.cfg.Frames, m.confirmed.sum))
	}
}

func (b *browserMatch) Game() *sim.Game {
	if b.join == nil {
		b.drawing = true
		return b.waiting
	}
	return b.join.Game()
}

func (b *browserMatch) HUD() hud {
	if b.join == nil {
		return b.hud
	}
	h := b.join.HUD()
	b.hud.Done = h.Done
	return h
}

// Close leaves the room.
func (b *browserMatch) Close() error {
	if b.join == nil {
		return nil
	}
	return b.join.Close()
}

// browserConsole writes slog lines to the browser's console.
type browserConsole struct{}

func (browserConsole) Write(p []byte) (int, error) {
	js.Global().Get("console").Call("log", "lyn: "+string(p))
	return len(p), nil
}

func browserLog(s string) { js.Global().Get("console").Call("log", "lyn: "+s) }
