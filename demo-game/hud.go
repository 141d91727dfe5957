package main

import (
	"log/slog"
	"time"

	"github.com/lynnet/lyn/demo-game/sim"
	"github.com/lynnet/lyn/rollback"
)

// liveMatch is a running match as the window sees it. The window (window.go)
// defines what it needs; match.go implements it for a network session, a
// replay and a sync-test. The window calls every method from its own
// goroutine (Ebiten's Update), never concurrently.
type liveMatch interface {
	// Tick runs one 60 Hz tick: local holds the buttons of each local seat
	// (one for a player, none for a spectator), sampled from the keyboard.
	// It returns an error only when the match cannot go on; a desync or a
	// dropped peer is shown in the HUD, not returned.
	Tick(local []sim.Input) error
	// Game is the state to draw: the latest frame, predictions included.
	// It stays valid until the next Tick.
	Game() *sim.Game
	// HUD is what the overlay and the banners show now.
	HUD() hud
}

// hud is a snapshot of what the overlay (F3) and the banners show.
type hud struct {
	Frame      rollback.Frame
	InputDelay int
	// Local is the seat drawn as "YOU" (-1 for a spectator); Names label
	// every seat (view.Options).
	Local int
	Names []string
	// Peers holds one row per remote peer, in PeerID order.
	Peers []peerHUD
	// Banner is the network banner ("" for none): waiting for a peer, a
	// peer dropped or came back, a desync naming the frame, signaling gone.
	Banner string
	// Done is set once the match is over (last frame reached, replay
	// finished); the window then keeps the last picture and the banner.
	Done bool
}

// peerHUD is one remote peer's row in the overlay.
type peerHUD struct {
	Name         string
	Ping         time.Duration
	FramesAhead  float32
	RollbackLast int
	RollbackP99  int
	KbpsIn       float64
	KbpsOut      float64
	Candidate    string // "host", "srflx", "prflx", "relay"; "" when unknown
	Interrupted  bool
	Disconnected bool
}

// windowConfig says how runWindow (window.go) opens the window; the zero
// value is a resizable 960×720 window titled "lyn demo" with the overlay
// hidden.
type windowConfig struct {
	Title       string
	ShowOverlay bool // start with the F3 overlay shown
	// Seats is how many local seats read the keyboard (0 for a spectator,
	// 1 normally; a second seat uses the other key set).
	Seats int
	// Quit, when closed, ends the window as Esc does (nil: only Esc or
	// closing the window end it); main passes its context's Done so that
	// Ctrl-C in the terminal closes the window.
	Quit <-chan struct{}
	// Logger receives the window's log lines, among them "first frame
	// drawn" at Info (nil: slog.Default()).
	Logger *slog.Logger
}
