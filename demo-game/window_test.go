package main

import (
	"errors"
	"log/slog"
	"testing"

	"github.com/lynnet/lyn/demo-game/sim"
	"github.com/lynnet/lyn/rollback"
)

// scriptedMatch is a liveMatch that advances a bot game and reports a HUD
// the test sets; it records what the window passes to Tick.
type scriptedMatch struct {
	g       *sim.Game
	hud     hud
	ticks   int
	seats   []int // len(local) at each Tick
	failAt  int   // Tick number that fails (0: never)
	doneAt  int   // Tick number after which HUD says Done (0: never)
	tickErr error
}

func (m *scriptedMatch) Tick(local []sim.Input) error {
	m.ticks++
	m.seats = append(m.seats, len(local))
	if m.ticks == m.failAt {
		return m.tickErr
	}
	advanceBots(m.g)
	m.hud.Frame = rollback.Frame(m.g.Frame())
	m.hud.Done = m.doneAt > 0 && m.ticks >= m.doneAt
	return nil
}
func (m *scriptedMatch) Game() *sim.Game { return m.g }
func (m *scriptedMatch) HUD() hud        { return m.hud }

// The window's Update outside a running game: no key is held, so it only
// ticks. (Drawing needs a display; the E2E test covers it.)
func TestWindowUpdateTicksUntilDone(t *testing.T) {
	m := &scriptedMatch{g: sim.New(1, 2), doneAt: 5}
	w := newWindowGame(m, windowConfig{Seats: 1})
	for range 20 {
		if err := w.Update(); err != nil {
			t.Fatal(err)
		}
	}
	// The match goes on ticking (its session serves the other peers) but
	// the picture and the frame shown stay those of the end.
	if m.ticks != 20 {
		t.Fatalf("%d ticks, want 20: the window keeps ticking after Done", m.ticks)
	}
	for i, n := range m.seats {
		if n != 1 {
			t.Fatalf("tick %d got %d local inputs, want 1", i, n)
		}
	}
	if w.frozen == nil || w.frozen.Frame() != 5 || !w.hud.Done || w.hud.Frame != 5 {
		t.Fatalf("after Done at tick 5: frozen game at frame %v, HUD %+v; want both at frame 5", w.frozen.Frame(), w.hud)
	}
	if m.g.Frame() != 20 || w.frozen.Checksum() == m.g.Checksum() {
		t.Fatalf("the frozen picture follows the match (frame %d)", m.g.Frame())
	}
}

func TestWindowUpdateAfterDoneSurvivesTickError(t *testing.T) {
	m := &scriptedMatch{g: sim.New(1, 2), doneAt: 2, failAt: 4, tickErr: errors.New("peer gone")}
	w := newWindowGame(m, windowConfig{Seats: 1, Logger: slog.New(slog.DiscardHandler)})
	for range 10 {
		if err := w.Update(); err != nil {
			t.Fatalf("a Tick error after Done ended the window: %v", err)
		}
	}
	if m.ticks != 4 || !w.tickFailed {
		t.Fatalf("%d ticks (failed %v), want 4: no ticks after the failure", m.ticks, w.tickFailed)
	}
}

func TestWindowUpdateQuit(t *testing.T) {
	q := make(chan struct{})
	m := &scriptedMatch{g: sim.New(1, 2)}
	w := newWindowGame(m, windowConfig{Seats: 1, Quit: q})
	if err := w.Update(); err != nil {
		t.Fatal(err)
	}
	close(q)
	if err := w.Update(); !errors.Is(err, errQuit) || m.ticks != 1 {
		t.Fatalf("after Quit closed: %v after %d ticks, want errQuit after 1", err, m.ticks)
	}
}

func TestWindowUpdateReturnsTickError(t *testing.T) {
	boom := errors.New("session closed")
	m := &scriptedMatch{g: sim.New(1, 2), failAt: 3, tickErr: boom}
	w := newWindowGame(m, windowConfig{})
	var err error
	for i := 0; i < 10 && err == nil; i++ {
		err = w.Update()
	}
	if !errors.Is(err, boom) || m.ticks != 3 {
		t.Fatalf("after %d ticks: %v, want %v at tick 3", m.ticks, err, boom)
	}
	if len(m.seats) != 3 || m.seats[0] != 0 {
		t.Fatalf("a spectator window (Seats 0) passed %v local inputs", m.seats)
	}
}

// advanceBots advances g one frame with every player's bot input.
func advanceBots(g *sim.Game) {
	in := make([]rollback.PlayerInput[sim.Input], g.Players())
	for p := range in {
		in[p].Input = sim.Bot(g, p)
	}
	g.Advance(in)
}
