package main

import (
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"time"

	"github.com/hajimehoshi/ebiten/v2"
	"github.com/hajimehoshi/ebiten/v2/inpututil"

	"github.com/lynnet/lyn/demo-game/sim"
	"github.com/lynnet/lyn/demo-game/view"
)

// processStart is when this program's package main was initialised: close
// to the start of the process (the runtime and imported packages have
// initialised), the origin of the "first frame drawn" figure.
var processStart = time.Now()

// Defaults of windowConfig's zero value.
const (
	defaultWindowTitle  = "lyn demo"
	defaultWindowWidth  = 960
	defaultWindowHeight = 720
)

// runWindow opens the game window and plays m in it at 60 ticks a second
// until the player presses Esc, closes the window or cfg.Quit is closed
// (nil error), or m.Tick fails (that error). It must be called on the main
// goroutine and only once per process: Ebiten runs one game loop.
func runWindow(m liveMatch, cfg windowConfig) error {
	title := cfg.Title
	if title == "" {
		title = defaultWindowTitle
	}
	ebiten.SetWindowTitle(title)
	ebiten.SetWindowSize(defaultWindowWidth, defaultWindowHeight)
	ebiten.SetWindowResizingMode(ebiten.WindowResizingModeEnabled)
	ebiten.SetTPS(sim.TicksPerSecond)
	// The match goes on when the window loses focus: stalling here would
	// stall every other peer, which waits for this one's inputs.
	ebiten.SetRunnableOnUnfocused(true)
	w := newWindowGame(m, cfg)
	err := ebiten.RunGame(w)
	w.log.Info("window closed", "ticks", w.ticks, "frames_drawn", w.frames,
		"fps", fmt.Sprintf("%.1f", w.averageFPS()), "err", err)
	if errors.Is(err, errQuit) {
		return nil
	}
	return err
}

// errQuit ends the game loop when the player quits; runWindow returns nil
// for it. (ebiten.Termination would do, but a sentinel of our own says
// clearly who asked.)
var errQuit = errors.New("demo-game: the player quit")

// windowGame is the ebiten.Game of the demo window.
type windowGame struct {
	m           liveMatch
	seats       int
	quit        <-chan struct{}
	log         *slog.Logger
	showOverlay bool
	local       []sim.Input
	hud         hud
	// frozen is the game as it was when the HUD first said Done: the
	// window keeps showing it while the match goes on ticking, so the
	// session keeps answering the other peers until they are done too.
	frozen     *sim.Game
	tickFailed bool    // a Tick failed after Done: no more ticks
	scale      float64 // device scale factor, read in Layout

	ticks, frames int       // Ticks run, frames drawn
	firstDrawn    time.Time // when the first frame was drawn
}

func newWindowGame(m liveMatch, cfg windowConfig) *windowGame {
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	return &windowGame{
		m:           m,
		seats:       max(0, cfg.Seats),
		quit:        cfg.Quit,
		log:         log,
		showOverlay: cfg.ShowOverlay,
		hud:         m.HUD(),
		scale:       1,
	}
}

// Update samples the keyboard and runs one tick of the match. Once the
// match is Done it keeps ticking with no buttons held (the session still
// acknowledges and resends for the other peers) and the picture stays; a
// Tick error then is logged, not returned, and ends the ticking.
func (w *windowGame) Update() error {
	select {
	case <-w.quit: // a nil channel never is ready
		return errQuit
	default:
	}
	// In a browser tab Esc does nothing: ending the game loop there would
	// leave a dead page; closing the tab ends it.
	if runtime.GOOS != "js" && inpututil.IsKeyJustPressed(quitKey) {
		return errQuit
	}
	if inpututil.IsKeyJustPressed(overlayKey) {
		w.showOverlay = !w.showOverlay
	}
	if w.tickFailed {
		return nil
	}
	pressed := ebiten.IsKeyPressed
	if w.frozen != nil {
		pressed = func(ebiten.Key) bool { return false }
	}
	w.local = localInputs(w.local, w.seats, pressed)
	if err := w.m.Tick(w.local); err != nil {
		if w.frozen == nil {
			return err
		}
		w.log.Warn("the match failed after it was over", "err", err)
		w.tickFailed = true
		return nil
	}
	w.ticks++
	h := w.m.HUD()
	if w.frozen != nil {
		// The picture and its frame stay; the overlay's figures go on.
		h.Frame, h.Done = w.hud.Frame, true
	} else if h.Done {
		w.frozen = snapshot(w.m.Game())
	}
	w.hud = h
	return nil
}

// snapshot returns a copy of g.
func snapshot(g *sim.Game) *sim.Game {
	c := sim.New(0, g.Players())
	if err := c.Load(g.Save(nil)); err != nil {
		// Save's output always loads into a game of the same size.
		panic("demo-game: reloading a saved game: " + err.Error())
	}
	return c
}

// Draw draws the game, then the overlay and the network banner over it.
func (w *windowGame) Draw(screen *ebiten.Image) {
	h := w.hud
	g := w.frozen
	if g == nil {
		g = w.m.Game()
	}
	view.Draw(screen, g, view.Options{Local: h.Local, Names: h.Names})
	l := view.NewLayout(screen.Bounds())
	if w.showOverlay {
		drawOverlay(screen, l, h, ebiten.ActualFPS())
	} else {
		drawHint(screen, l)
	}
	drawBanner(screen, l, h)
	w.frames++
	if w.frames == 1 {
		w.firstDrawn = time.Now()
		w.log.Info("first frame drawn", "since_start", w.firstDrawn.Sub(processStart).Round(time.Millisecond),
			"frame", h.Frame, "screen", screen.Bounds().Size(), "scale", w.scale)
	}
}

// averageFPS is the frames drawn per second since the first one.
func (w *windowGame) averageFPS() float64 {
	if w.frames < 2 {
		return 0
	}
	return float64(w.frames-1) / time.Since(w.firstDrawn).Seconds()
}

// Layout renders at the window's size in device pixels, so the picture is
// sharp on a high-density screen; view.Draw fits any size.
func (w *windowGame) Layout(outsideWidth, outsideHeight int) (int, int) {
	if m := ebiten.Monitor(); m != nil {
		w.scale = max(1, m.DeviceScaleFactor())
	}
	return int(float64(outsideWidth) * w.scale), int(float64(outsideHeight) * w.scale)
}
