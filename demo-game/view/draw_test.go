package view

import (
	"image"
	"testing"

	"github.com/hajimehoshi/ebiten/v2"

	"github.com/lynnet/lyn/demo-game/sim"
)

// TestDrawEveryPhase draws a game in every phase on offscreen images of
// several sizes. Without a display Ebiten only queues draw commands on an
// offscreen image (reading pixels back needs a running game, which needs a
// display, and the queue is never flushed, so every draw gets slower): this
// checks that Draw copes with every phase and size in a handful of draws;
// what the picture looks like is checked by eye in the demo.
func TestDrawEveryPhase(t *testing.T) {
	screens := []*ebiten.Image{ebiten.NewImage(640, 480), ebiten.NewImage(150, 400)}
	// One game per phase: a bot match of three, stopped when it enters
	// the phase with discs still falling or dashing where it can.
	want := []sim.Phase{sim.PhaseCountdown, sim.PhasePlaying, sim.PhaseRoundOver, sim.PhaseMatchOver}
	games := make([]*sim.Game, 0, len(want))
	g := sim.New(7, 3)
	in := make([]rollbackInput, 3)
	for f := 0; f < 20000 && len(games) < len(want); f++ {
		botInputs(g, in)
		g.Advance(in)
		next := want[len(games)]
		if g.Phase() == next && (next != sim.PhasePlaying || g.PhaseFrame() > 200) {
			c := sim.New(0, 3)
			if err := c.Load(g.Save(nil)); err != nil {
				t.Fatal(err)
			}
			games = append(games, c)
		}
	}
	if len(games) != len(want) {
		t.Fatalf("the bot match reached only %d of the %d phases", len(games), len(want))
	}
	// One draw per phase, alternating the screen shapes: before RunGame,
	// Ebiten queues every draw command and each costs more than the last
	// (about a second each on a loaded machine), so a few draws are all a
	// default test can afford; the window's E2E test draws for real.
	for i, g := range games {
		Draw(screens[i%2], g, Options{Local: i - 1, Names: []string{"a very long player name indeed"}, HideBanner: i%2 == 1})
	}
	// A game with a player gone; an empty screen draws nothing and does not
	// divide by zero.
	gone := sim.New(3, 3)
	gone.Advance([]rollbackInput{{}, {Status: disconnected}, {}})
	Draw(screens[0], gone, Options{Local: 1})
	Draw(screens[0].SubImage(image.Rectangle{}).(*ebiten.Image), gone, Options{})
}
