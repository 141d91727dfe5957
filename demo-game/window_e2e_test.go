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
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lynnet/lyn/demo-game/view"
	"github.com/lynnet/lyn/internal/syncbuf"
)

// The window E2E test builds the demo, runs it with no flags but -overlay
// (the embedded default: a bot peer over real WebRTC on loopback) in a
// real window on a virtual X display (Xvfb), takes screenshots of the
// display and checks what they show, presses F3 and Esc with xdotool, and
// reports the time from the command to the first frame drawn.

const e2eScreen = "1280x960x24"

func TestWindowE2E(t *testing.T) {
	if os.Getenv("LYN_E2E") != "1" {
		t.Skip("needs Xvfb, imagemagick and xdotool (a real window on a virtual display): set LYN_E2E=1 to run")
	}
	for _, tool := range []string{"Xvfb", "import", "xdotool", "go"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s not found (Debian packages xvfb, imagemagick, xdotool; the Go toolchain): %v", tool, err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	bin := filepath.Join(t.TempDir(), "demo-game")
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	display := startXvfb(t, ctx)

	cmd := exec.CommandContext(ctx, bin, "-overlay", "-log-level", "info")
	cmd.Env = append(os.Environ(), "DISPLAY="+display)
	logs := &syncbuf.Buffer{}
	cmd.Stdout = logs
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	firstFrame := make(chan string, 1)
	closedLine := make(chan string, 1)
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
			for key, ch := range map[string]chan string{"first frame drawn": firstFrame, "window closed": closedLine} {
				if strings.Contains(line, key) {
					select {
					case ch <- line:
					default:
					}
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
		if t.Failed() {
			t.Logf("demo output:\n%s", logs.String())
		}
	}()

	select {
	case line := <-firstFrame:
		seen := time.Since(started)
		since := regexp.MustCompile(`since_start=(\S+)`).FindStringSubmatch(line)
		if since == nil {
			t.Fatalf("first frame log line %q has no since_start", line)
		}
		t.Logf("first frame drawn %s after process start (logged by the demo), %s after the command was started (load average %s)",
			since[1], seen.Round(time.Millisecond), loadAverage())
	case err := <-exited:
		waited = true
		t.Fatalf("the demo exited before drawing a frame: %v", err)
	case <-time.After(3 * time.Minute):
		t.Fatal("no first frame drawn within 3 minutes")
	}

	// Poll the display until the arena with both discs and the overlay
	// show: software GL on a loaded machine may take a while to present.
	var shot image.Image
	var win, panel image.Rectangle
	var discPixels [2]int
	var inPanel, inWindow int
	deadline := time.Now().Add(2 * time.Minute)
	for {
		shot = screenshot(t, ctx, display)
		win = windowRect(shot)
		l := view.NewLayout(image.Rect(0, 0, win.Dx(), win.Dy()))
		// Generous: more lines and columns than the overlay shows.
		panel = overlayRect(l, 12, 90*overlayTextSize(l)).Add(win.Min)
		// The discs, in the arena under the score bar (whose swatches have
		// the players' colours too), maybe under a banner's dark band.
		arena := win
		arena.Min.Y += int(l.BarHeight) + 2
		for p := range discPixels {
			discPixels[p] = countShaded(shot, arena, view.PlayerColor(p), 0.4, 12)
		}
		inPanel, inWindow = countNear(shot, panel, overlayTextColor, 24), countNear(shot, win, overlayTextColor, 24)
		ok := win.Dx() >= defaultWindowWidth/2 && win.Dy() >= defaultWindowHeight/2 &&
			discPixels[0] >= 100 && discPixels[1] >= 100 && inPanel >= 50 && inPanel >= inWindow*9/10
		if ok || time.Now().After(deadline) {
			break
		}
		time.Sleep(2 * time.Second)
	}
	saveArtifact(t, shot, "window-e2e-overlay.png")
	t.Logf("window %v on the display; disc pixels in the arena %v; overlay text pixels %d in the panel %v, %d in the window",
		win, discPixels, inPanel, panel, inWindow)
	if win.Dx() < defaultWindowWidth/2 || win.Dy() < defaultWindowHeight/2 {
		t.Fatalf("the window on the display is %v, want about %dx%d", win, defaultWindowWidth, defaultWindowHeight)
	}
	for p, n := range discPixels {
		if n < 100 {
			t.Errorf("player %d's colour %v: %d pixels in the window, want a disc", p+1, view.PlayerColor(p), n)
		}
	}
	if inPanel < 50 || inPanel < inWindow*9/10 {
		t.Fatalf("overlay text: %d pixels of its colour in the panel %v, %d in the window; want its text there", inPanel, panel, inWindow)
	}

	// F3 hides the overlay.
	xdotool(t, ctx, display, "search", "--name", "lyn demo", "windowfocus", "key", "F3")
	hidden := false
	for deadline := time.Now().Add(time.Minute); !hidden && time.Now().Before(deadline); {
		time.Sleep(time.Second)
		shot = screenshot(t, ctx, display)
		hidden = countNear(shot, win, overlayTextColor, 24) < inPanel/10
	}
	saveArtifact(t, shot, "window-e2e-no-overlay.png")
	if !hidden {
		t.Errorf("F3 did not hide the overlay within a minute")
	}

	// The CPU the demo used so far (window, match and bot peer), before
	// Esc ends it cleanly with status 0.
	cpu := processCPU(cmd.Process.Pid)
	elapsed := time.Since(started)
	// Esc closes the window at once: xdotool may then fail to finish with
	// it (BadWindow), which is no failure of the demo; its exit says.
	if err := xdotoolErr(ctx, display, "search", "--name", "lyn demo", "windowfocus", "key", "Escape"); err != nil {
		t.Logf("%v (the window may have closed under it)", err)
	}
	select {
	case err := <-exited:
		waited = true
		if err != nil {
			t.Fatalf("after Esc the demo exited with %v, want status 0", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("the demo did not exit within a minute of Esc")
	}
	select {
	case line := <-closedLine:
		t.Logf("%s; process CPU %v over %v (%.0f%% of a core)", strings.TrimPrefix(line[strings.Index(line, "window closed"):], "window closed\" "),
			cpu.Round(time.Millisecond), elapsed.Round(time.Millisecond), 100*cpu.Seconds()/elapsed.Seconds())
	default:
		t.Errorf("no \"window closed\" log line")
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
	var xlog syncbuf.Buffer
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

// screenshot takes a picture of the whole display.
func screenshot(t *testing.T, ctx context.Context, display string) image.Image {
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
	return img
}

// saveArtifact saves img as name in $LYN_ARTIFACTS (CI keeps it), else in
// the test's temporary directory, and logs where.
func saveArtifact(t *testing.T, img image.Image, name string) {
	t.Helper()
	dir := os.Getenv("LYN_ARTIFACTS")
	if dir == "" {
		dir = t.TempDir()
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot saved: %s", path)
}

// processCPU is the user and system CPU time process pid has used, from
// /proc (0 where that cannot be read).
func processCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// Fields after the command name (in parentheses): utime and stime are
	// the 14th and 15th of the whole line, in clock ticks of 1/100 s.
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * 10 * time.Millisecond
}

// loadAverage is the one-minute load average, for the log.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	return strings.Fields(string(b))[0]
}

func xdotool(t *testing.T, ctx context.Context, display string, args ...string) {
	t.Helper()
	if err := xdotoolErr(ctx, display, args...); err != nil {
		t.Fatal(err)
	}
}

// xdotoolErr runs xdotool and returns its failure, for a key that may
// close the window before xdotool is done with it.
func xdotoolErr(ctx context.Context, display string, args ...string) error {
	cmd := exec.CommandContext(ctx, "xdotool", args...)
	cmd.Env = append(os.Environ(), "DISPLAY="+display)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("xdotool %v: %v: %s", args, err, out)
	}
	return nil
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
	if r.Empty() {
		return image.Rectangle{}
	}
	return r
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

// countShaded counts the pixels in r that are c scaled by a factor from
// minScale to 1 (c itself, or c under a translucent black band), within tol
// per channel.
func countShaded(img image.Image, r image.Rectangle, c color.RGBA, minScale float64, tol int) int {
	r = r.Intersect(img.Bounds())
	cr, cg, cb := float64(c.R), float64(c.G), float64(c.B)
	cc := cr*cr + cg*cg + cb*cb
	n := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			pr, pg, pb, _ := img.At(x, y).RGBA()
			fr, fg, fb := float64(pr>>8), float64(pg>>8), float64(pb>>8)
			s := (fr*cr + fg*cg + fb*cb) / cc
			if s < minScale || s > 1.05 {
				continue
			}
			d := max(abs(fr-s*cr), abs(fg-s*cg), abs(fb-s*cb))
			if d <= float64(tol) {
				n++
			}
		}
	}
	return n
}

func abs(f float64) float64 {
	if f < 0 {
		return -f
	}
	return f
}
