package view

import (
	"bytes"
	"image/color"
	"math"
	"strconv"
	"sync"

	"github.com/hajimehoshi/ebiten/v2"
	"github.com/hajimehoshi/ebiten/v2/text/v2"
	"github.com/hajimehoshi/ebiten/v2/vector"
	"golang.org/x/image/font/gofont/gobold"

	"github.com/lynnet/lyn/demo-game/sim"
)

// Options says how to draw a game. The zero value draws it for player 0,
// with names P1 … P8 and the score bar.
type Options struct {
	// Local is the player whose screen this is: their disc gets a white ring
	// and "YOU". -1 (any negative value) is a spectator.
	Local int
	// Names label the players in the score bar and banners (peer names,
	// "bot", …); a missing or empty name is P1 … P8.
	Names []string
	// HideBar leaves out the score bar, and HideBanner the countdown and
	// winner text, for a program that draws its own. The layout keeps the
	// bar's room either way.
	HideBar, HideBanner bool
}

// fontSource is the Go Bold font, parsed once on first use.
var fontSource = sync.OnceValue(func() *text.GoTextFaceSource {
	src, err := text.NewGoTextFaceSource(bytes.NewReader(gobold.TTF))
	if err != nil {
		// The font is compiled in: failing to parse it is a broken build.
		panic("view: parsing the built-in Go font: " + err.Error())
	}
	return src
})

// Draw draws g on screen, filling all of screen's bounds whatever their size:
// the platform, every disc (with its dash trail and its dash cooldown ring),
// the score bar and the phase banner. It only reads g.
func Draw(screen *ebiten.Image, g *sim.Game, opts Options) {
	l := NewLayout(screen.Bounds())
	screen.Fill(backgroundColor)
	if l.Scale <= 0 {
		return
	}
	drawArena(screen, g, l)
	for p := range g.Players() {
		drawDisc(screen, g, l, p, opts)
	}
	if !opts.HideBar {
		drawBar(screen, g, l, opts)
	}
	if !opts.HideBanner {
		drawBanner(screen, g, l, opts)
	}
}

func drawArena(screen *ebiten.Image, g *sim.Game, l Layout) {
	cx, cy := l.Point(0, 0)
	// Where the platform started: a faint ring, so the shrinking shows.
	strokeCircle(screen, cx, cy, l.Length(sim.ArenaStartRadius), 2, ghostRingColor, true)
	r := g.ArenaRadius()
	if r <= 0 {
		return
	}
	late := 1 - r.Float()/sim.ArenaStartRadius.Float()
	fillCircle(screen, cx, cy, l.Length(r), mix(platformColor, platformLate, late*late))
	strokeCircle(screen, cx, cy, l.Length(r), max(2, float32(l.Scale)*2), edgeColor, true)
}

func drawDisc(screen *ebiten.Image, g *sim.Game, l Layout, p int, opts Options) {
	d := g.Disc(p)
	if !d.Visible() {
		return
	}
	base := PlayerColor(p)
	x, y := l.Point(d.X, d.Y)
	r := l.Length(sim.DiscRadius)
	alpha := 1.0
	if !d.Alive {
		// Falling: shrink and fade out.
		t := float64(d.Falling) / sim.FallFrames
		r *= float32(0.3 + 0.7*t)
		alpha = t
	}

	// Dash trail: ghosts of the disc behind it along its velocity.
	if d.Dashing > 0 || d.Stunned > 0 {
		for k := 3; k >= 1; k-- {
			tx, ty := l.Point(d.X-d.VX*sim.Fixed(2*k), d.Y-d.VY*sim.Fixed(2*k))
			fillCircle(screen, tx, ty, r*(1-0.15*float32(k)), fade(base, alpha*0.5/float64(k+1)))
		}
	}

	body := base
	if d.Stunned > 0 && g.Frame()/3%2 == 0 {
		body = mix(base, color.RGBA{0xff, 0xff, 0xff, 0xff}, 0.6) // flash while out of control
	}
	fillCircle(screen, x, y, r, fade(body, alpha))
	if !d.Alive {
		return
	}

	// Facing: a notch on the rim where an undirected dash would go.
	a := float64(d.Facing) * math.Pi / 4
	fx, fy := x+float32(math.Cos(a))*r*0.62, y+float32(math.Sin(a))*r*0.62
	fillCircle(screen, fx, fy, r*0.2, fade(backgroundColor, 0.8))

	// Dash readiness: a full bright ring when ready, a growing arc while
	// cooling down.
	ring := r + max(2, r*0.18)
	w := max(1.5, r*0.14)
	if d.DashCooldown == 0 {
		strokeCircle(screen, x, y, ring, w, base, true)
	} else {
		done := 1 - float64(d.DashCooldown)/sim.DashCooldownFrames
		var path vector.Path
		start := float32(-math.Pi / 2)
		path.Arc(x, y, ring, start, start+float32(2*math.Pi*done), vector.Clockwise)
		so := &vector.StrokeOptions{Width: w, LineCap: vector.LineCapRound}
		do := &vector.DrawPathOptions{AntiAlias: true}
		do.ColorScale.ScaleWithColor(fade(base, 0.45))
		vector.StrokePath(screen, &path, so, do)
	}

	size := float64(r) * 0.9
	label := strconv.Itoa(p + 1)
	if p == opts.Local {
		strokeCircle(screen, x, y, ring+w*2.5, max(2, w), textColor, true)
		drawText(screen, "YOU", float64(x), float64(y-ring-w*3)-size*0.7, size*0.8, textColor, text.AlignCenter)
	}
	drawText(screen, label, float64(x), float64(y), size, backgroundColor, text.AlignCenter)
}

func drawBar(screen *ebiten.Image, g *sim.Game, l Layout, opts Options) {
	b := l.Bounds
	vector.FillRect(screen, float32(b.Min.X), float32(b.Min.Y), float32(b.Dx()), float32(l.BarHeight), barColor, false)
	size := l.TextSize()
	midY := float64(b.Min.Y) + l.BarHeight/2
	// Round number on the right; players share the rest equally.
	roundText := "Round " + strconv.Itoa(g.Round())
	roundW := size * 6
	drawText(screen, roundText, float64(b.Max.X)-size*0.5, midY, size, dimTextColor, text.AlignEnd)
	n := g.Players()
	slot := (float64(b.Dx()) - roundW) / float64(n)
	for p := range n {
		d := g.Disc(p)
		x := float64(b.Min.X) + slot*float64(p) + size*0.5
		c := PlayerColor(p)
		nameColor := textColor
		if d.Disconnected {
			c, nameColor = fade(c, 0.35), dimTextColor
		}
		fillCircle(screen, float32(x+size*0.4), float32(midY), float32(size*0.4), c)
		name := PlayerName(p, opts)
		if p == opts.Local {
			name += " (you)"
		}
		if d.Disconnected {
			name += " left"
		}
		// Round wins as pips, smaller when the slot is narrow.
		step := max(0, min(size*0.7, (slot-size*1.6)/float64(sim.WinScore)))
		pips := float64(sim.WinScore) * step
		// Names are cut to the room left after the swatch and the pips.
		name = fitText(name, slot-size*1.8-pips, size)
		drawText(screen, name, x+size, midY, size, nameColor, text.AlignStart)
		// The round wins follow the name, so they read as the player's.
		px := x + size*1.2 + text.Advance(name, face(size))
		for k := range sim.WinScore {
			cx := float32(px + (float64(k)+0.4)*step)
			if k < g.Score(p) {
				fillCircle(screen, cx, float32(midY), float32(step*0.4), PlayerColor(p))
			} else {
				strokeCircle(screen, cx, float32(midY), float32(step*0.36), float32(max(1, step*0.1)), dimTextColor, true)
			}
		}
	}
}

func drawBanner(screen *ebiten.Image, g *sim.Game, l Layout, opts Options) {
	title, subtitle := Banner(g, opts)
	if title == "" && subtitle == "" {
		return
	}
	size := l.TextSize() * 2.4
	titleColor := textColor
	switch w := g.MatchWinner(); {
	case g.Phase() == sim.PhaseMatchOver && w >= 0:
		titleColor = PlayerColor(w)
	case g.Phase() == sim.PhaseRoundOver && g.RoundWinner() >= 0:
		titleColor = PlayerColor(g.RoundWinner())
	}
	y := l.CenterY - size*0.4
	// Long titles shrink to fit the width.
	if wdt := text.Advance(title, face(size)); wdt > float64(l.Bounds.Dx())*0.9 {
		size *= float64(l.Bounds.Dx()) * 0.9 / wdt
	}
	// A dark band behind the text keeps it readable over the discs.
	bandTop, bandH := y-size*0.75, size*1.5
	if subtitle != "" {
		bandH += l.TextSize() * 1.6
	}
	if title == "" {
		bandTop, bandH = y+size*0.4, l.TextSize()*1.8
	}
	vector.FillRect(screen, float32(l.Bounds.Min.X), float32(bandTop), float32(l.Bounds.Dx()), float32(bandH), color.RGBA{0, 0, 0, 0x70}, false)
	drawText(screen, title, l.CenterX+2, y+2, size, color.RGBA{0, 0, 0, 0xa0}, text.AlignCenter)
	drawText(screen, title, l.CenterX, y, size, titleColor, text.AlignCenter)
	if subtitle != "" {
		drawText(screen, subtitle, l.CenterX, y+size*0.9, l.TextSize()*1.1, textColor, text.AlignCenter)
	}
}

func face(size float64) *text.GoTextFace {
	return &text.GoTextFace{Source: fontSource(), Size: max(size, 1)}
}

// drawText draws s with its vertical centre at y, aligned horizontally at x.
func drawText(screen *ebiten.Image, s string, x, y, size float64, c color.Color, align text.Align) {
	if s == "" || size < 1 {
		return
	}
	op := &text.DrawOptions{}
	op.GeoM.Translate(x, y)
	op.ColorScale.ScaleWithColor(c)
	op.PrimaryAlign = align
	op.SecondaryAlign = text.AlignCenter
	text.Draw(screen, s, face(size), op)
}

// fitText shortens s with an ellipsis until it fits width pixels.
func fitText(s string, width, size float64) string {
	f := face(size)
	if text.Advance(s, f) <= width {
		return s
	}
	r := []rune(s)
	for len(r) > 0 {
		r = r[:len(r)-1]
		if t := string(r) + "…"; text.Advance(t, f) <= width {
			return t
		}
	}
	return ""
}
