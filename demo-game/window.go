package main

import (
	"errors"
	"log/slog"
	"sync"
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
// until the player presses Esc or closes the window (nil error) or m.Tick
// fails (that error). It can run only once per process: Ebiten allows one
// game loop.
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
	showOverlay bool
	local       []sim.Input
	hud         hud
	done        bool // the match is over: no more ticks, keep the picture
	firstFrame  sync.Once
	scale       float64 // device scale factor, read in Layout
}

func newWindowGame(m liveMatch, cfg windowConfig) *windowGame {
	return &windowGame{
		m:           m,
		seats:       max(0, cfg.Seats),
		showOverlay: cfg.ShowOverlay,
		hud:         m.HUD(),
		scale:       1,
	}
}

// Update samples the keyboard and runs one tick of the match.
func (w *windowGame) Update() error {
	if inpututil.IsKeyJustPressed(quitKey) {
		return errQuit
	}
	if inpututil.IsKeyJustPressed(overlayKey) {
		w.showOverlay = !w.showOverlay
	}
	if w.done {
		return nil
	}
	w.local = localInputs(w.local, w.seats, ebiten.IsKeyPressed)
	if err := w.m.Tick(w.local); err != nil {
		return err
	}
	w.hud = w.m.HUD()
	w.done = w.hud.Done
	return nil
}

// Draw draws the game, then the overlay and the network banner over it.
func (w *windowGame) Draw(screen *ebiten.Image) {
	h := w.hud
	view.Draw(screen, w.m.Game(), view.Options{Local: h.Local, Names: h.Names})
	l := view.NewLayout(screen.Bounds())
	if w.showOverlay {
		drawOverlay(screen, l, h)
	} else {
		drawHint(screen, l)
	}
	drawBanner(screen, l, h)
	w.firstFrame.Do(func() {
		slog.Info("first frame drawn", "since_start", time.Since(processStart).Round(time.Millisecond),
			"frame", h.Frame)
	})
}

// Layout renders at the window's size in device pixels, so the picture is
// sharp on a high-density screen; view.Draw fits any size.
func (w *windowGame) Layout(outsideWidth, outsideHeight int) (int, int) {
	if m := ebiten.Monitor(); m != nil {
		w.scale = max(1, m.DeviceScaleFactor())
	}
	return int(float64(outsideWidth) * w.scale), int(float64(outsideHeight) * w.scale)
}
