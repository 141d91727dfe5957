package main

import (
	"image"
	"math"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/lynnet/lyn/demo-game/view"
)

func TestOverlayLines(t *testing.T) {
	h := hud{
		Frame: 1234, InputDelay: 2, Local: 0,
		Peers: []peerHUD{
			{Name: "bot", Ping: 82 * time.Millisecond, FramesAhead: 1.5, RollbackLast: 3, RollbackP99: 7, KbpsIn: 12.34, KbpsOut: 101.4, Candidate: "srflx"},
			{Name: "a-very-long-peer-name", Ping: 400 * time.Microsecond, FramesAhead: -0.25, Candidate: "relay", Interrupted: true},
			{Name: "carol", Disconnected: true},
		},
	}
	lines := overlayLines(h, 59.6)
	if len(lines) != 5 {
		t.Fatalf("%d lines, want a status line, a heading and 3 rows:\n%v", len(lines), lines)
	}
	if got, want := lines[0].Text, "frame 1234  input delay 2  60 fps  seat 1"; got != want {
		t.Errorf("status line %q, want %q", got, want)
	}
	if !lines[1].Head {
		t.Errorf("line 1 %q is not marked as the heading", lines[1].Text)
	}
	for _, want := range []string{"bot", "82ms", "+1.5", "3/7", "12.3/101", "srflx"} {
		if !strings.Contains(lines[2].Text, want) {
			t.Errorf("first peer row %q lacks %q", lines[2].Text, want)
		}
	}
	if lines[2].Alert {
		t.Errorf("a healthy peer's row is an alert: %q", lines[2].Text)
	}
	for _, want := range []string{"a-very-lo…", "0.4ms", "-0.2", "0/0", "relay", "interrupted"} {
		if !strings.Contains(lines[3].Text, want) {
			t.Errorf("second peer row %q lacks %q", lines[3].Text, want)
		}
	}
	if !lines[3].Alert || !lines[4].Alert || !strings.HasSuffix(lines[4].Text, "GONE") {
		t.Errorf("interrupted and gone peers are not alerts: %+v", lines[3:])
	}
	if !strings.Contains(lines[4].Text, " - ") || !strings.Contains(lines[4].Text, " ?") {
		t.Errorf("a peer with nothing measured shows %q, want - for ping and ? for the path", lines[4].Text)
	}
	// The table's columns line up in a monospaced font: the path column
	// starts at the same character in the heading and every row.
	col := strings.Index(lines[1].Text, "path")
	for _, ln := range lines[2:] {
		r := []rune(ln.Text)
		if len(r) <= col || r[col-1] != ' ' || r[col] == ' ' {
			t.Errorf("row %q: path column not at character %d", ln.Text, col)
		}
	}
}

func TestOverlayLinesSpectatorAlone(t *testing.T) {
	lines := overlayLines(hud{Frame: 7, Local: -1}, 0)
	if len(lines) != 2 || !strings.HasSuffix(lines[0].Text, "spectator") || lines[1].Text != "no remote peers" {
		t.Fatalf("spectator without peers: %+v", lines)
	}
}

func TestFormatPing(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0:                        "-",
		-time.Second:             "-",
		250 * time.Microsecond:   "0.2ms",
		9*time.Millisecond + 949: "9.0ms",
		10 * time.Millisecond:    "10ms",
		81600 * time.Microsecond: "82ms",
		3 * time.Second:          "3000ms",
	} {
		if got := formatPing(d); got != want {
			t.Errorf("formatPing(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestFormatKbps(t *testing.T) {
	for _, tc := range []struct {
		k    float64
		want string
	}{{0, "0.0"}, {12.345, "12.3"}, {99.94, "99.9"}, {100, "100"}, {2048.6, "2049"}, {-1, "-"}, {math.NaN(), "-"}} {
		if got := formatKbps(tc.k); got != tc.want {
			t.Errorf("formatKbps(%v) = %q, want %q", tc.k, got, tc.want)
		}
	}
}

func TestCutRunes(t *testing.T) {
	for _, tc := range []struct {
		s    string
		n    int
		want string
	}{{"bot", 10, "bot"}, {"0123456789", 10, "0123456789"}, {"0123456789x", 10, "012345678…"}, {"éèêëēėęěĕə", 4, "éèê…"}, {"ab", 0, "…"}} {
		if got := cutRunes(tc.s, tc.n); got != tc.want {
			t.Errorf("cutRunes(%q, %d) = %q, want %q", tc.s, tc.n, got, tc.want)
		}
	}
}

func TestBannerLines(t *testing.T) {
	if got := bannerLines(hud{}, "linux"); len(got) != 0 {
		t.Errorf("no banner: %q", got)
	}
	if got := bannerLines(hud{Banner: "  Waiting for a peer…\n"}, "linux"); len(got) != 1 || got[0] != "Waiting for a peer…" {
		t.Errorf("waiting banner: %q", got)
	}
	got := bannerLines(hud{Banner: "Desync at frame 4242\nchecksums differ", Done: true}, "linux")
	if len(got) != 3 || got[0] != "Desync at frame 4242" || got[1] != "checksums differ" || !strings.Contains(got[2], "Esc") {
		t.Errorf("desync banner after the end: %q", got)
	}
	// Esc does not close a browser tab: the page does not offer it.
	if got := bannerLines(hud{Done: true}, "js"); len(got) != 1 || strings.Contains(got[0], "Esc") {
		t.Errorf("browser banner after the end: %q", got)
	}
}

func TestWrapText(t *testing.T) {
	runes := func(s string) float64 { return float64(utf8.RuneCountInString(s)) }
	for _, tc := range []struct {
		s     string
		width float64
		want  []string
	}{
		{"Waiting for a peer", 100, []string{"Waiting for a peer"}},
		{"Waiting for a peer", 11, []string{"Waiting for", "a peer"}},
		{"Waiting  for\ta peer", 7, []string{"Waiting", "for a", "peer"}},
		{"supercalifragilistic is long", 5, []string{"supercalifragilistic", "is", "long"}},
		{"   ", 10, nil},
	} {
		got := wrapText(tc.s, tc.width, runes)
		if strings.Join(got, "|") != strings.Join(tc.want, "|") {
			t.Errorf("wrapText(%q, %v) = %q, want %q", tc.s, tc.width, got, tc.want)
		}
	}
}

func TestOverlayRect(t *testing.T) {
	for _, b := range []image.Rectangle{
		image.Rect(0, 0, 960, 720),
		image.Rect(0, 0, 1920, 1080),
		image.Rect(0, 0, 320, 240),
		image.Rect(0, 0, 30, 20),
	} {
		l := view.NewLayout(b)
		r := overlayRect(l, 4, 600)
		if !r.In(b) {
			t.Errorf("%v: overlay %v leaves the screen", b, r)
		}
		if !r.Empty() && float64(r.Min.Y) < l.BarHeight {
			t.Errorf("%v: overlay %v covers the score bar (%v px)", b, r, l.BarHeight)
		}
		if small := overlayRect(l, 2, 300); small.Dy() > r.Dy() || small.Dx() > r.Dx() {
			t.Errorf("%v: 2 lines take %v, 4 lines %v", b, small, r)
		}
	}
	// On the default window a table of 9 lines, 700 pixels wide, fits.
	l := view.NewLayout(image.Rect(0, 0, defaultWindowWidth, defaultWindowHeight))
	if r := overlayRect(l, 9, 700); r.Dx() < 700 || r.Max.X >= defaultWindowWidth || r.Max.Y >= defaultWindowHeight {
		t.Errorf("default window: overlay %v", r)
	}
}

// FuzzOverlayText feeds arbitrary peer names and banners (they come from
// the network) through the formatting: it never panics, cuts names to their
// column and wraps banners within the width unless a word is too long.
func FuzzOverlayText(f *testing.F) {
	f.Add("bot", "Waiting for a peer…", 80.0)
	f.Add("\xff\xfe", "Desync at frame 12\n\n", 3.0)
	f.Fuzz(func(t *testing.T, name, banner string, width float64) {
		h := hud{Local: 0, Banner: banner, Peers: []peerHUD{{Name: name, KbpsIn: width}}}
		for _, ln := range overlayLines(h, width)[2:] {
			if got := utf8.RuneCountInString(ln.Text); got > 80 {
				t.Fatalf("row of %d runes for name %q", got, name)
			}
		}
		runes := func(s string) float64 { return float64(utf8.RuneCountInString(s)) }
		for _, b := range bannerLines(h, "linux") {
			for _, ln := range wrapText(b, width, runes) {
				if runes(ln) > width && strings.Contains(ln, " ") {
					t.Fatalf("line %q wider than %v", ln, width)
				}
			}
		}
	})
}

func TestHintText(t *testing.T) {
	if h := hintText("linux"); !strings.Contains(h, "F3") || !strings.Contains(h, "Esc") {
		t.Errorf("native hint %q", h)
	}
	if h := hintText("js"); !strings.Contains(h, "F3") || strings.Contains(h, "Esc") {
		t.Errorf("browser hint %q offers Esc, which does nothing there", h)
	}
}
