package main

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"runtime"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/hajimehoshi/ebiten/v2"
	"github.com/hajimehoshi/ebiten/v2/text/v2"
	"github.com/hajimehoshi/ebiten/v2/vector"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/gomono"

	"github.com/lynnet/lyn/demo-game/view"
)

// The overlay (F3) is a table in a monospaced font at the top left of the
// arena; the network banner is a band across the lower part of the arena,
// below the game's own countdown and winner text, so both can show at once.
var (
	overlayPanelColor  = color.RGBA{0x00, 0x00, 0x00, 0xc0}
	overlayTextColor   = color.RGBA{0x7c, 0xf0, 0x9c, 0xff} // mint: no player has it, so a screenshot test can find it
	overlayHeadColor   = color.RGBA{0xa8, 0xac, 0xb8, 0xff}
	overlayAlertColor  = color.RGBA{0xff, 0x8c, 0x6e, 0xff}
	bannerBandColor    = color.RGBA{0x20, 0x10, 0x00, 0xd8}
	bannerAccentColor  = color.RGBA{0xff, 0xb0, 0x20, 0xff}
	bannerTextColor    = color.RGBA{0xff, 0xf4, 0xe0, 0xff}
	hintTextColor      = color.RGBA{0x80, 0x84, 0x90, 0xff}
	overlayNameRunes   = 10 // a peer's name is cut to this many characters
	overlayMinTextSize = 12.0
)

var (
	monoSource = sync.OnceValue(func() *text.GoTextFaceSource { return mustFont(gomono.TTF) })
	boldSource = sync.OnceValue(func() *text.GoTextFaceSource { return mustFont(gobold.TTF) })
)

func mustFont(ttf []byte) *text.GoTextFaceSource {
	src, err := text.NewGoTextFaceSource(bytes.NewReader(ttf))
	if err != nil {
		// The fonts are compiled in: failing to parse one is a broken build.
		panic("demo-game: parsing a built-in Go font: " + err.Error())
	}
	return src
}

// overlayLine is one line of the overlay: its text and whether it is a
// heading or an alert (a peer interrupted or gone).
type overlayLine struct {
	Text        string
	Head, Alert bool
}

// overlayLines formats the F3 overlay: the frame, input delay and frames
// drawn per second, then one row per remote peer with ping, frames ahead,
// rollback depth (last and 99th percentile), data rates and the ICE
// candidate type of its path.
func overlayLines(h hud, fps float64) []overlayLine {
	who := "seat " + fmt.Sprint(h.Local+1)
	if h.Local < 0 {
		who = "spectator"
	}
	lines := []overlayLine{
		{Text: fmt.Sprintf("frame %d  input delay %d  %.0f fps  %s", h.Frame, h.InputDelay, fps, who)},
	}
	if len(h.Peers) == 0 {
		return append(lines, overlayLine{Text: "no remote peers", Head: true})
	}
	lines = append(lines, overlayLine{
		Text: fmt.Sprintf("%-*s %8s %6s %11s %13s  %s", overlayNameRunes, "peer", "ping", "ahead", "rb last/p99", "kbps in/out", "path"),
		Head: true,
	})
	for _, p := range h.Peers {
		row := fmt.Sprintf("%-*s %8s %6s %11s %13s  %s",
			overlayNameRunes, cutRunes(p.Name, overlayNameRunes),
			formatPing(p.Ping),
			fmt.Sprintf("%+.1f", p.FramesAhead),
			fmt.Sprintf("%d/%d", p.RollbackLast, p.RollbackP99),
			formatKbps(p.KbpsIn)+"/"+formatKbps(p.KbpsOut),
			candidateLabel(p.Candidate))
		alert := false
		switch {
		case p.Disconnected:
			row, alert = row+"  GONE", true
		case p.Interrupted:
			row, alert = row+"  interrupted", true
		}
		lines = append(lines, overlayLine{Text: row, Alert: alert})
	}
	return lines
}

// formatPing shows a round-trip time in whole milliseconds, with a decimal
// below 10 ms (loopback), and "-" before the first measurement.
func formatPing(d time.Duration) string {
	switch {
	case d <= 0:
		return "-"
	case d < 10*time.Millisecond:
		return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond))
	default:
		return fmt.Sprintf("%dms", d.Round(time.Millisecond)/time.Millisecond)
	}
}

// formatKbps shows a data rate in kbit/s: one decimal below 100, whole above.
func formatKbps(k float64) string {
	switch {
	case k != k || k < 0: // NaN or nonsense: unknown
		return "-"
	case k < 100:
		return fmt.Sprintf("%.1f", k)
	default:
		return fmt.Sprintf("%.0f", k)
	}
}

// candidateLabel names the ICE candidate type of a peer's path; "?" while
// unknown.
func candidateLabel(c string) string {
	if c == "" {
		return "?"
	}
	return c
}

// cutRunes shortens s to at most n runes, the last one an ellipsis when cut.
func cutRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:max(0, n-1)]) + "…"
}

// bannerLines returns the banner to draw over the arena: the network banner
// from the HUD and, once the match is over, how to leave (on goos; a browser
// tab is left by closing it). Empty for none.
func bannerLines(h hud, goos string) []string {
	var lines []string
	if b := strings.TrimSpace(h.Banner); b != "" {
		lines = append(lines, strings.Split(b, "\n")...)
	}
	if h.Done {
		if goos == "js" {
			lines = append(lines, "Match over")
		} else {
			lines = append(lines, "Match over — Esc quits")
		}
	}
	return lines
}

// wrapText breaks s into lines no wider than width as measure reports it,
// at spaces; a single word wider than width gets a line of its own.
func wrapText(s string, width float64, measure func(string) float64) []string {
	var lines []string
	line := ""
	for _, w := range strings.Fields(s) {
		try := w
		if line != "" {
			try = line + " " + w
		}
		if line != "" && measure(try) > width {
			lines = append(lines, line)
			try = w
		}
		line = try
	}
	if line != "" {
		lines = append(lines, line)
	}
	return lines
}

// overlayTextSize is the overlay's font size on a screen laid out as l.
func overlayTextSize(l view.Layout) float64 {
	return max(overlayMinTextSize, l.TextSize()*0.8)
}

// overlayRect is where the overlay panel of n lines, the longest textWidth
// pixels wide, is drawn: at the top left of the arena, under the score
// bar, clipped to the screen.
func overlayRect(l view.Layout, n int, textWidth float64) image.Rectangle {
	size := overlayTextSize(l)
	pad := size * 0.5
	w := textWidth + 2*pad
	h := float64(n)*size*1.3 + 2*pad
	x0 := float64(l.Bounds.Min.X) + pad
	y0 := float64(l.Bounds.Min.Y) + l.BarHeight + pad
	r := image.Rect(int(x0), int(y0), int(x0+w+0.5), int(y0+h+0.5))
	return r.Intersect(l.Bounds)
}

// drawOverlay draws the F3 panel.
func drawOverlay(screen *ebiten.Image, l view.Layout, h hud, fps float64) {
	lines := overlayLines(h, fps)
	size := overlayTextSize(l)
	face := &text.GoTextFace{Source: monoSource(), Size: size}
	width := 0.0
	for _, ln := range lines {
		width = max(width, text.Advance(ln.Text, face))
	}
	r := overlayRect(l, len(lines), width)
	if r.Empty() {
		return
	}
	pad := size * 0.5
	vector.FillRect(screen, float32(r.Min.X), float32(r.Min.Y), float32(r.Dx()), float32(r.Dy()), overlayPanelColor, false)
	for i, ln := range lines {
		c := overlayTextColor
		switch {
		case ln.Alert:
			c = overlayAlertColor
		case ln.Head:
			c = overlayHeadColor
		}
		op := &text.DrawOptions{}
		op.GeoM.Translate(float64(r.Min.X)+pad, float64(r.Min.Y)+pad+float64(i)*size*1.3)
		op.ColorScale.ScaleWithColor(c)
		text.Draw(screen, ln.Text, face, op)
	}
}

// drawBanner draws the network banner as a band across the lower part of
// the arena: dark, with an amber rule above and below and large light text.
func drawBanner(screen *ebiten.Image, l view.Layout, h hud) {
	raw := bannerLines(h, runtime.GOOS)
	if len(raw) == 0 {
		return
	}
	b := l.Bounds
	size := max(14, l.TextSize()*1.3)
	face := &text.GoTextFace{Source: boldSource(), Size: size}
	measure := func(s string) float64 { return text.Advance(s, face) }
	var lines []string
	for _, r := range raw {
		lines = append(lines, wrapText(r, float64(b.Dx())*0.9, measure)...)
	}
	lineH := size * 1.3
	bandH := float64(len(lines))*lineH + size*0.8
	arenaH := float64(b.Dy()) - l.BarHeight
	top := min(l.CenterY+arenaH*0.22, float64(b.Max.Y)-bandH)
	vector.FillRect(screen, float32(b.Min.X), float32(top), float32(b.Dx()), float32(bandH), bannerBandColor, false)
	rule := float32(max(2, size*0.12))
	vector.FillRect(screen, float32(b.Min.X), float32(top), float32(b.Dx()), rule, bannerAccentColor, false)
	vector.FillRect(screen, float32(b.Min.X), float32(top+bandH)-rule, float32(b.Dx()), rule, bannerAccentColor, false)
	for i, s := range lines {
		op := &text.DrawOptions{}
		op.GeoM.Translate(l.CenterX, top+size*0.4+float64(i)*lineH+lineH/2)
		op.ColorScale.ScaleWithColor(bannerTextColor)
		op.PrimaryAlign = text.AlignCenter
		op.SecondaryAlign = text.AlignCenter
		text.Draw(screen, s, face, op)
	}
}

// hintText is the reminder of the window's keys on goos (Esc does not quit
// in a browser tab).
func hintText(goos string) string {
	if goos == "js" {
		return "F3 network"
	}
	return "F3 network · Esc quit"
}

// drawHint draws the small "F3 network" reminder at the bottom right while
// the overlay is hidden.
func drawHint(screen *ebiten.Image, l view.Layout) {
	size := max(10, l.TextSize()*0.7)
	op := &text.DrawOptions{}
	op.GeoM.Translate(float64(l.Bounds.Max.X)-size*0.5, float64(l.Bounds.Max.Y)-size*0.4)
	op.ColorScale.ScaleWithColor(hintTextColor)
	op.PrimaryAlign = text.AlignEnd
	op.SecondaryAlign = text.AlignEnd
	text.Draw(screen, hintText(runtime.GOOS), &text.GoTextFace{Source: monoSource(), Size: size}, op)
}
