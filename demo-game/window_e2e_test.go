//go:build !js

package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lynnet/lyn/demo-game/sim"
	"github.com/lynnet/lyn/demo-game/view"
	"github.com/lynnet/lyn/rollback"
)

// The window E2E test runs the demo in a real window on a virtual X display
// (Xvfb), takes screenshots of the display and checks what they show.
//
// The program under test is this test binary, re-executed with
// windowChildEnv set: its init (on the main goroutine, which Ebiten needs)
// then runs runWindow on a local bot match instead of running the tests.

const (
	windowChildEnv = "LYN_WINDOW_E2E_CHILD"
	e2eTitle       = "lyn window e2e"
	e2eScreen      = "1280x960x24"
)

func init() {
	if os.Getenv(windowChildEnv) != "1" {
		return
	}
	m := &botMatch{g: sim.New(42, 2)}
	err := runWindow(m, windowConfig{Title: e2eTitle, ShowOverlay: true, Seats: 1})
	if err != nil {
		fmt.Fprintln(os.Stderr, "runWindow:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// botMatch is a local two-player match for the window test: player 1 is the
// keyboard plus its bot (so it plays by itself), player 2 a bot. Its HUD
// has one peer row, the bot, with the game's own figures.
type botMatch struct {
	g     *sim.Game
	ticks int
}

func (m *botMatch) Tick(local []sim.Input) error {
	in := make([]rollback.PlayerInput[sim.Input], m.g.Players())
	for p := range in {
		in[p].Input = sim.Bot(m.g, p)
	}
	if len(local) > 0 {
		in[0].Input |= local[0]
	}
	m.g.Advance(in)
	m.ticks++
	return nil
}

func (m *botMatch) Game() *sim.Game { return m.g }

func (m *botMatch) HUD() hud {
	h := hud{
		Frame: rollback.Frame(m.g.Frame()), Local: 0, Names: []string{"you", "bot"},
		Peers: []peerHUD{{Name: "bot", Candidate: "host"}},
	}
	if m.ticks < 30 {
		h.Banner = "Waiting for the bot…"
	}
	return h
}

func TestWindowE2E(t *testing.T) {
	if os.Getenv("LYN_E2E") != "1" {
		t.Skip("needs an X display (Xvfb) and screenshots: set LYN_E2E=1 to run")
	}
	for _, tool := range []string{"Xvfb", "import", "xdotool"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s not found (Debian packages xvfb, imagemagick, xdotool): %v", tool, err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	display := startXvfb(t, ctx)

	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "DISPLAY="+display, windowChildEnv+"=1")
	logs := &lockedBuffer{}
	firstFrame := make(chan string, 1)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = logs
	started := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			logs.WriteString(line + "\n")
			if strings.Contains(line, "first frame drawn") {
				select {
				case firstFrame <- line:
				default:
				}
			}
		}
		exited <- cmd.Wait()
	}()
	waited := false
	defer func() {
		if !waited {
			_ = cmd.Process.Kill()
			<-exited
		}
		t.Logf("demo output:\n%s", logs.String())
	}()

	select {
	case line := <-firstFrame:
		seen := time.Since(started)
		since := regexp.MustCompile(`since_start=(\S+)`).FindStringSubmatch(line)
		if since == nil {
			t.Fatalf("first frame log line %q has no since_start", line)
		}
		t.Logf("first frame drawn %s after process start (logged), %s after the command was started", since[1], seen.Round(time.Millisecond))
	case err := <-exited:
		waited = true
		t.Fatalf("the demo exited before drawing a frame: %v", err)
	case <-time.After(60 * time.Second):
		t.Fatal("no first frame drawn within 60 s")
	}
	// Let the countdown run and the discs move.
	time.Sleep(3 * time.Second)

	shot := screenshot(t, ctx, display, "window-e2e-overlay.png")
	win := windowRect(shot)
	if win.Dx() < defaultWindowWidth/2 || win.Dy() < defaultWindowHeight/2 {
		t.Fatalf("the window on the display is %v, want about %dx%d", win, defaultWindowWidth, defaultWindowHeight)
	}
	t.Logf("window at %v on the display", win)
	for p := range 2 {
		if n := countNear(shot, win, view.PlayerColor(p), 12); n < 100 {
			t.Errorf("player %d's colour %v: %d pixels in the window, want a disc", p+1, view.PlayerColor(p), n)
		}
	}
	l := view.NewLayout(image.Rect(0, 0, win.Dx(), win.Dy()))
	panel := overlayRect(l, 12, 80).Add(win.Min) // generous: more lines and columns than shown
	in, all := countNear(shot, panel, overlayTextColor, 24), countNear(shot, win, overlayTextColor, 24)
	if in < 50 || in < all*9/10 {
		t.Errorf("overlay text: %d mint pixels in the panel %v, %d in the window; want its text there", in, panel, all)
	}

	// F3 hides the overlay.
	xdotool(t, ctx, display, "search", "--name", e2eTitle, "windowfocus", "key", "F3")
	time.Sleep(time.Second)
	shot = screenshot(t, ctx, display, "window-e2e-no-overlay.png")
	if n := countNear(shot, win, overlayTextColor, 24); n > in/10 {
		t.Errorf("after F3: %d overlay pixels, was %d", n, in)
	}

	// Esc ends the window cleanly: the program exits with status 0.
	xdotool(t, ctx, display, "search", "--name", e2eTitle, "windowfocus", "key", "Escape")
	select {
	case err := <-exited:
		waited = true
		if err != nil {
			t.Fatalf("after Esc the demo exited with %v, want status 0", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the demo did not exit within 20 s of Esc")
	}
}

// startXvfb starts a virtual X server on a free display and returns its
// name (":N"); it is stopped when the test ends.
func startXvfb(t *testing.T, ctx context.Context) string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	// -displayfd: Xvfb picks a free display and writes its number to fd 3.
	x := exec.CommandContext(ctx, "Xvfb", "-displayfd", "3", "-screen", "0", e2eScreen, "-br", "-nolisten", "tcp")
	x.ExtraFiles = []*os.File{w}
	var xlog lockedBuffer
	x.Stdout, x.Stderr = &xlog, &xlog
	if err := x.Start(); err != nil {
		t.Fatalf("starting Xvfb: %v", err)
	}
	w.Close()
	t.Cleanup(func() {
		_ = x.Process.Kill()
		_ = x.Wait()
	})
	num := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(r).ReadString('\n')
		num <- strings.TrimSpace(line)
	}()
	select {
	case n := <-num:
		if _, err := strconv.Atoi(n); err != nil {
			t.Fatalf("Xvfb gave display %q: %s", n, xlog.String())
		}
		return ":" + n
	case <-time.After(30 * time.Second):
		t.Fatalf("Xvfb did not start within 30 s: %s", xlog.String())
	}
	return ""
}

// screenshot takes a picture of the whole display, saves it as an artifact
// under name and returns it.
func screenshot(t *testing.T, ctx context.Context, display, name string) image.Image {
	t.Helper()
	cmd := exec.CommandContext(ctx, "import", "-display", display, "-window", "root", "png:-")
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("import: %v: %s", err, errOut.String())
	}
	img, err := png.Decode(bytes.NewReader(out.Bytes()))
	if err != nil {
		t.Fatalf("decoding the screenshot: %v", err)
	}
	dir := os.Getenv("LYN_ARTIFACTS")
	if dir == "" {
		dir = t.TempDir()
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot saved: %s", path)
	return img
}

func xdotool(t *testing.T, ctx context.Context, display string, args ...string) {
	t.Helper()
	cmd := exec.CommandContext(ctx, "xdotool", args...)
	cmd.Env = append(os.Environ(), "DISPLAY="+display)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("xdotool %v: %v: %s", args, err, out)
	}
}

// windowRect is the bounding box of the pixels that are not black: the
// window (the display has no window manager, and -br makes its root black).
func windowRect(img image.Image) image.Rectangle {
	b := img.Bounds()
	r := image.Rectangle{Min: b.Max, Max: b.Min}
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if cr, cg, cb, _ := img.At(x, y).RGBA(); cr|cg|cb != 0 {
				r.Min.X, r.Min.Y = min(r.Min.X, x), min(r.Min.Y, y)
				r.Max.X, r.Max.Y = max(r.Max.X, x+1), max(r.Max.Y, y+1)
			}
		}
	}
	return r.Canon()
}

// countNear counts the pixels in r within tol (per channel) of c.
func countNear(img image.Image, r image.Rectangle, c color.RGBA, tol int) int {
	r = r.Intersect(img.Bounds())
	n := 0
	near := func(a uint32, b uint8) bool { d := int(a>>8) - int(b); return d <= tol && d >= -tol }
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			cr, cg, cb, _ := img.At(x, y).RGBA()
			if near(cr, c.R) && near(cg, c.G) && near(cb, c.B) {
				n++
			}
		}
	}
	return n
}

// lockedBuffer is a bytes.Buffer safe for concurrent writers.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) WriteString(s string) { _, _ = l.Write([]byte(s)) }

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

var _ io.Writer = (*lockedBuffer)(nil)
