package view

import (
	"image"

	"github.com/lynnet/lyn/demo-game/sim"
)

// Layout places the world on a screen of any size: a score bar across the
// top, and below it the arena, centred and as large as fits with a margin.
// The scale comes from sim.ArenaStartRadius, not the current radius, so the
// platform is seen to shrink. It is plain arithmetic, independent of Ebiten.
type Layout struct {
	// Bounds is the screen.
	Bounds image.Rectangle
	// BarHeight is the height of the score bar at the top, in pixels.
	BarHeight float64
	// CenterX, CenterY is where the world's origin (the arena's centre) is
	// drawn.
	CenterX, CenterY float64
	// Scale is pixels per world unit.
	Scale float64
}

// NewLayout lays out a screen with the given bounds. An empty rectangle
// gives a Layout whose Scale is 0 (nothing visible), never a division by
// zero.
func NewLayout(bounds image.Rectangle) Layout {
	w, h := float64(bounds.Dx()), float64(bounds.Dy())
	l := Layout{Bounds: bounds}
	if w <= 0 || h <= 0 {
		return l
	}
	l.BarHeight = min(max(h*0.07, 18), 48, h/3)
	arenaH := h - l.BarHeight
	l.CenterX = float64(bounds.Min.X) + w/2
	l.CenterY = float64(bounds.Min.Y) + l.BarHeight + arenaH/2
	// The start radius plus a disc fits with a 4% margin on each side.
	reach := (sim.ArenaStartRadius + sim.DiscRadius).Float()
	l.Scale = min(w, arenaH) * 0.46 / reach
	return l
}

// Point returns where the world point (x, y) is drawn.
func (l Layout) Point(x, y sim.Fixed) (float32, float32) {
	return float32(l.CenterX + x.Float()*l.Scale), float32(l.CenterY + y.Float()*l.Scale)
}

// Length returns how long the world length f is drawn, in pixels.
func (l Layout) Length(f sim.Fixed) float32 { return float32(f.Float() * l.Scale) }

// TextSize returns the font size for the score bar; banner text is a
// multiple of it.
func (l Layout) TextSize() float64 { return l.BarHeight * 0.5 }
