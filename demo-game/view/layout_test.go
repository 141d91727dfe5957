package view

import (
	"image"
	"testing"

	"github.com/lynnet/lyn/demo-game/sim"
)

func TestLayoutFitsArenaInEveryShape(t *testing.T) {
	for _, b := range []image.Rectangle{
		image.Rect(0, 0, 640, 480),
		image.Rect(0, 0, 1920, 1080),
		image.Rect(0, 0, 300, 900), // tall phone
		image.Rect(0, 0, 2000, 200),
		image.Rect(100, 50, 740, 530), // a sub-image with an offset
		image.Rect(0, 0, 40, 30),
	} {
		l := NewLayout(b)
		if l.Scale <= 0 {
			t.Fatalf("%v: scale %v", b, l.Scale)
		}
		reach := float64(l.Length(sim.ArenaStartRadius + sim.DiscRadius))
		top := float64(b.Min.Y) + l.BarHeight
		if l.CenterX-reach < float64(b.Min.X) || l.CenterX+reach > float64(b.Max.X) ||
			l.CenterY-reach < top || l.CenterY+reach > float64(b.Max.Y) {
			t.Errorf("%v: arena (centre %.1f,%.1f reach %.1f) leaves the screen below the bar at %.1f", b, l.CenterX, l.CenterY, reach, top)
		}
		// The arena uses most of the room it has: at least 80% of the
		// smaller side.
		room := min(float64(b.Dx()), float64(b.Dy())-l.BarHeight)
		if 2*reach < 0.8*room {
			t.Errorf("%v: arena %.1f px across in %.1f px of room", b, 2*reach, room)
		}
		if l.BarHeight <= 0 || l.BarHeight > float64(b.Dy())/3 {
			t.Errorf("%v: bar height %v", b, l.BarHeight)
		}
	}
}

func TestLayoutPoint(t *testing.T) {
	l := NewLayout(image.Rect(0, 0, 800, 600))
	x, y := l.Point(0, 0)
	if float64(x) != l.CenterX || float64(y) != l.CenterY {
		t.Fatalf("origin at %v,%v, want the centre %v,%v", x, y, l.CenterX, l.CenterY)
	}
	// y grows downwards on screen as in the world; x to the right.
	x2, y2 := l.Point(10*sim.One, 20*sim.One)
	near := func(a, b float32) bool { return a-b < 0.01 && b-a < 0.01 }
	if !near(x2-x, l.Length(10*sim.One)) || !near(y2-y, l.Length(20*sim.One)) {
		t.Fatalf("(10,20) drawn at offset %v,%v, want %v,%v", x2-x, y2-y, l.Length(10*sim.One), l.Length(20*sim.One))
	}
}

func TestLayoutEmptyScreen(t *testing.T) {
	for _, b := range []image.Rectangle{{}, image.Rect(0, 0, 0, 100), image.Rect(0, 0, 100, 0)} {
		if l := NewLayout(b); l.Scale != 0 {
			t.Errorf("%v: scale %v, want 0", b, l.Scale)
		}
	}
}

func TestBanner(t *testing.T) {
	g := sim.New(1, 2)
	if title, sub := Banner(g, Options{}); title != "3" || sub == "" {
		t.Fatalf("countdown banner %q %q, want 3 and the round", title, sub)
	}
	none := make([]rollbackInput, 2)
	for g.Phase() == sim.PhaseCountdown {
		advance(g, none)
	}
	if title, _ := Banner(g, Options{}); title != "GO!" {
		t.Fatalf("first playing frame banner %q, want GO!", title)
	}
	for range sim.TicksPerSecond {
		advance(g, none)
	}
	if title, sub := Banner(g, Options{}); title != "" || sub != "" {
		t.Fatalf("mid-round banner %q %q, want none", title, sub)
	}
	// Player 1 leaves: player 0 wins the match.
	g.Advance([]rollbackInput{{}, {Status: disconnected}})
	if title, _ := Banner(g, Options{Local: 0}); title != "You win the match!" {
		t.Fatalf("banner for the winner %q", title)
	}
	if title, sub := Banner(g, Options{Local: -1, Names: []string{"ada"}}); title != "ada wins the match!" || sub != "Everybody else left" {
		t.Fatalf("banner for a spectator %q %q", title, sub)
	}
}

func TestPlayerName(t *testing.T) {
	opts := Options{Names: []string{"ada", ""}}
	for p, want := range []string{"ada", "P2", "P3"} {
		if got := PlayerName(p, opts); got != want {
			t.Errorf("PlayerName(%d) = %q, want %q", p, got, want)
		}
	}
}

func TestPlayerColorsDistinct(t *testing.T) {
	seen := map[[3]uint8]int{}
	for p := range sim.MaxPlayers {
		c := PlayerColor(p)
		k := [3]uint8{c.R, c.G, c.B}
		if q, ok := seen[k]; ok {
			t.Fatalf("players %d and %d share colour %v", q, p, c)
		}
		seen[k] = p
		if c.A != 0xff {
			t.Fatalf("player %d colour %v is not opaque", p, c)
		}
	}
}
