package view

import "image/color"

// playerColors are eight hues told apart at a glance (and by most colour-blind
// players, thanks to their different lightness).
var playerColors = [8]color.RGBA{
	{0xe6, 0x3b, 0x4b, 0xff}, // red
	{0x43, 0x8b, 0xf0, 0xff}, // blue
	{0x3c, 0xc4, 0x5b, 0xff}, // green
	{0xff, 0xd4, 0x19, 0xff}, // yellow
	{0xf5, 0x82, 0x31, 0xff}, // orange
	{0xa5, 0x5e, 0xea, 0xff}, // purple
	{0x42, 0xd4, 0xf4, 0xff}, // cyan
	{0xf0, 0x62, 0xc6, 0xff}, // pink
}

// PlayerColor returns player p's colour, for overlays that name players the
// way the arena shows them. Players beyond the eighth reuse the palette.
func PlayerColor(p int) color.RGBA {
	if p < 0 {
		p = -p
	}
	return playerColors[p%len(playerColors)]
}

var (
	backgroundColor = color.RGBA{0x12, 0x14, 0x1a, 0xff}
	barColor        = color.RGBA{0x1c, 0x1f, 0x28, 0xff}
	platformColor   = color.RGBA{0x3a, 0x40, 0x52, 0xff}
	platformLate    = color.RGBA{0x5a, 0x32, 0x3a, 0xff} // the platform's tint when nearly gone
	edgeColor       = color.RGBA{0xe8, 0xe8, 0xf0, 0xff}
	ghostRingColor  = color.RGBA{0x2a, 0x2e, 0x3a, 0xff}
	textColor       = color.RGBA{0xf0, 0xf0, 0xf4, 0xff}
	dimTextColor    = color.RGBA{0x80, 0x84, 0x90, 0xff}
)

// mix returns a blend of a and b, t = 0 giving a and t = 1 giving b.
func mix(a, b color.RGBA, t float64) color.RGBA {
	t = min(max(t, 0), 1)
	l := func(x, y uint8) uint8 { return uint8(float64(x) + (float64(y)-float64(x))*t + 0.5) }
	return color.RGBA{l(a.R, b.R), l(a.G, b.G), l(a.B, b.B), l(a.A, b.A)}
}

// fade returns c with its alpha (and, premultiplied, its colour) scaled by a.
func fade(c color.RGBA, a float64) color.RGBA {
	a = min(max(a, 0), 1)
	s := func(x uint8) uint8 { return uint8(float64(x)*a + 0.5) }
	return color.RGBA{s(c.R), s(c.G), s(c.B), s(c.A)}
}
