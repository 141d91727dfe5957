//go:build !js

package web_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/lynnet/lyn/demo-game/sim"
	"github.com/lynnet/lyn/demo-game/web"
	"github.com/lynnet/lyn/netcode"
	"github.com/lynnet/lyn/rollback"
	"github.com/lynnet/lyn/signaling"
)

// e2eFrame is the frame whose confirmed checksum both peers must agree on.
const e2eFrame = 600

// TestBrowserE2E plays the demo between a native headless peer (player 1,
// netcode.Join with the bot) and headless Chromium opening the page the
// Handler serves (player 2, also the bot), through an in-process signaling
// server, all on loopback, to frame e2eFrame; the confirmed checksums of
// both must agree. The page's screenshot is saved in $LYN_ARTIFACTS (or the
// test's temporary directory).
func TestBrowserE2E(t *testing.T) {
	if os.Getenv("LYN_E2E") != "1" {
		t.Skip("browser E2E: set LYN_E2E=1 (needs Go, node, npm and /usr/bin/chromium; builds the demo for wasm)")
	}
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	chromium := os.Getenv("LYN_CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	if _, err := os.Stat(chromium); err != nil {
		t.Fatalf("browser E2E needs chromium (apt-get install -y chromium): %v", err)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("browser E2E needs node (apt-get install -y nodejs npm): %v", err)
	}
	scriptDir, err := filepath.Abs(filepath.Join("testdata", "e2e"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(scriptDir, "node_modules", "playwright-core")); err != nil {
		npm, err := exec.LookPath("npm")
		if err != nil {
			t.Fatalf("browser E2E needs npm to install playwright-core: %v", err)
		}
		cmd := exec.Command(npm, "ci", "--no-audit", "--no-fund")
		cmd.Dir = scriptDir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("npm ci in %s: %v\n%s", scriptDir, err, out)
		}
	}
	artifacts := os.Getenv("LYN_ARTIFACTS")
	if artifacts == "" {
		artifacts = t.TempDir()
	} else if err := os.MkdirAll(artifacts, 0o755); err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))

	// The web handler, with the real demo built for wasm (minutes on a
	// cold cache, then cached by source hash).
	h, err := web.NewHandler(web.Config{Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	buildCtx, cancel := context.WithTimeout(context.Background(), 12*time.Minute)
	start := time.Now()
	err = h.Prepare(buildCtx)
	cancel()
	if err != nil {
		t.Fatalf("building the demo for wasm: %v", err)
	}
	t.Logf("wasm ready in %v", time.Since(start).Round(time.Millisecond))

	// A starved headless browser may not read its WebSocket for long:
	// generous bounds, not goals.
	sig := signaling.NewServer(signaling.Config{Logger: logger, IdleTimeout: 3 * time.Minute, ResumeGrace: 3 * time.Minute})
	mux := http.NewServeMux()
	mux.Handle("/signal/", http.StripPrefix("/signal", sig))
	mux.Handle("/", h)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		sig.Shutdown(ctx)
		srv.Shutdown(ctx)
	}()
	origin := "http://" + ln.Addr().String()

	// Player 1: the native peer.
	ctx, stop := context.WithTimeout(context.Background(), 10*time.Minute)
	defer stop()
	native := &checksumLog{}
	nativeDone := make(chan error, 1)
	go func() {
		nativeDone <- playNative(ctx, origin, native, logger)
	}()
	// Wait until the native peer is in the room, so that it is player 1
	// (the start order is the join order).
	waitFor(t, ctx, func() bool { return sig.Stats().Peers == 1 })

	// Player 2: the browser.
	page := web.JoinURL(origin, web.Options{Room: "e2e", Players: 2, Delay: web.DefaultDelay, Bot: true, LoopbackOnly: true, Name: "chromium", Timeout: time.Minute, Frames: e2eFrame})
	shot := filepath.Join(artifacts, "browser-e2e.png")
	t.Logf("page: %s", page)
	cmd := exec.CommandContext(ctx, node, filepath.Join(scriptDir, "play.js"), page, shot, "540")
	cmd.Dir = scriptDir
	cmd.Env = append(os.Environ(), "LYN_CHROMIUM="+chromium)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	runErr := cmd.Run()
	var result *pageResult
	sc := bufio.NewScanner(&out)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, "RESULT "); ok {
			result = new(pageResult)
			if err := json.Unmarshal([]byte(rest), result); err != nil {
				t.Errorf("page result %q: %v", rest, err)
			}
			continue
		}
		t.Log("browser: " + line)
	}
	stop()
	if err := <-nativeDone; err != nil && !errors.Is(err, context.Canceled) {
		t.Errorf("native peer: %v", err)
	}
	if runErr != nil {
		t.Fatalf("browser: %v", runErr)
	}
	if result == nil {
		t.Fatal("browser: no RESULT line")
	}
	t.Logf("screenshot: %s", shot)
	if st, err := os.Stat(shot); err != nil || st.Size() == 0 {
		t.Errorf("screenshot missing: %v", err)
	}
	if result.Status.Desync != "" {
		t.Errorf("browser saw a desync: %s", result.Status.Desync)
	}
	want, ok := native.get(e2eFrame)
	if !ok {
		t.Fatalf("native peer has no checksum of frame %d", e2eFrame)
	}
	got := result.Status.FinalChecksum
	if result.Status.FinalFrame != e2eFrame || got != fmt.Sprintf("%016x", want) {
		t.Errorf("frame %d: browser checksum %s (of frame %d), native %016x", e2eFrame, got, result.Status.FinalFrame, want)
	} else {
		t.Logf("frame %d: browser and native checksums agree: %s", e2eFrame, got)
	}
	// The page signals and accepts 127.0.0.1 candidates only (loopback=1)
	// and the native peer has no others, so the packets never leave this
	// machine. Chromium may still send its checks to 127.0.0.1 from a
	// socket bound to another address of this host, which the native peer
	// then sees as a peer-reflexive candidate: allowed, it is local too.
	path := native.selectedPath()
	t.Logf("native peer's candidate pair: %s", path)
	if !localPair(t, path) {
		t.Errorf("candidate pair %q is not between addresses of this machine", path)
	}
	if result.Status.Desyncs != 0 || native.desyncs() != 0 {
		t.Errorf("desyncs: browser %d, native %d", result.Status.Desyncs, native.desyncs())
	}
	tm := result.Times
	t.Logf("page timings (ms since navigation): wasm instantiated %.0f, first frame drawn %.0f, joined %.0f, running %.0f, frame %d confirmed %.0f",
		tm["instantiated"], tm["firstDraw"], tm["joined"], tm["running"], e2eFrame, tm["done"])
}

// localPair reports whether "ip:port type -> ip:port type" has 127.0.0.1
// at this end and an address of this machine at the other.
func localPair(t *testing.T, path string) bool {
	f := strings.Fields(path)
	if len(f) != 5 {
		return false
	}
	local, err1 := netip.ParseAddrPort(f[0])
	remote, err2 := netip.ParseAddrPort(f[3])
	if err1 != nil || err2 != nil || !local.Addr().IsLoopback() {
		return false
	}
	if remote.Addr().IsLoopback() {
		return true
	}
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		if p, err := netip.ParsePrefix(a.String()); err == nil && p.Addr().Unmap() == remote.Addr().Unmap() {
			return true
		}
	}
	return false
}

// pageResult is play.js's RESULT line: window.lyn's status and times.
type pageResult struct {
	Status struct {
		State         string
		Frame         int
		Confirmed     int
		FinalFrame    int
		FinalChecksum string
		Desyncs       int
		Desync        string
		Error         string
	}
	Times map[string]float64
}

// playNative joins the room as a native peer (loopback only) and plays
// the bot at 60 Hz until ctx ends.
func playNative(ctx context.Context, origin string, log *checksumLog, logger *slog.Logger) error {
	var game *sim.Game
	signalURL := strings.Replace(origin, "http://", "ws://", 1) + "/signal/e2e"
	sess, err := netcode.Join(ctx, netcode.JoinConfig[sim.Input]{
		URL:     signalURL,
		Players: 2,
		Codec:   sim.Codec{},
		NewGame: func(seed uint64, players int) rollback.Game[sim.Input] {
			game = sim.New(seed, players)
			return game
		},
		Session: rollback.Config[sim.Input]{
			InputDelay: web.DefaultDelay,
			Recorder:   log,
			// A headless browser on a loaded CI machine may hitch for
			// seconds: wait for it rather than drop it (a bound, not a goal).
			DisconnectTimeout: 60 * time.Second,
		},
		Net:    netcode.Config{LoopbackOnly: true},
		Logger: logger,
	})
	if err != nil {
		return err
	}
	defer sess.Close()
	tick := time.NewTicker(time.Second / 60)
	defer tick.Stop()
	var events []rollback.Event
	var ahead float32
	for n := 0; ; n++ {
		select {
		case <-ctx.Done():
			for _, ns := range sess.NetStats() {
				log.setPath(fmt.Sprintf("%s %v -> %s %v", ns.LocalAddress, ns.LocalCandidateType, ns.RemoteAddress, ns.RemoteCandidateType))
			}
			return ctx.Err()
		case <-tick.C:
		}
		if ahead >= 1 && n%6 == 0 {
			ahead--
			continue
		}
		me := sess.LocalPlayer()
		if err := sess.AddLocalInput(me, sim.Bot(game, int(me))); err != nil && !rollback.IsWait(err) {
			return err
		}
		if err := sess.AdvanceFrame(); err != nil && !rollback.IsWait(err) {
			return err
		}
		events = sess.Events(events[:0])
		for _, e := range events {
			switch e.Kind {
			case rollback.EventTimeSync:
				ahead = e.FramesAhead
			case rollback.EventDesync:
				log.desync()
				logger.Error("native: desync", "event", e.String())
			default:
				logger.Info("native: " + e.String())
			}
		}
	}
}

// checksumLog is the native peer's rollback.Recorder: every confirmed
// checksum, read by the test goroutine.
type checksumLog struct {
	mu      sync.Mutex
	sums    map[rollback.Frame]uint64
	desyncN int
	path    string // the selected candidate pair, at the end
}

func (c *checksumLog) setPath(p string) { c.mu.Lock(); c.path = p; c.mu.Unlock() }
func (c *checksumLog) selectedPath() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.path
}

func (c *checksumLog) RecordFrame(rollback.Frame, []rollback.PlayerInput[sim.Input]) {}

func (c *checksumLog) RecordChecksum(f rollback.Frame, sum uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sums == nil {
		c.sums = make(map[rollback.Frame]uint64)
	}
	c.sums[f] = sum
}

func (c *checksumLog) get(f rollback.Frame) (uint64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.sums[f]
	return s, ok
}

func (c *checksumLog) desync() { c.mu.Lock(); c.desyncN++; c.mu.Unlock() }
func (c *checksumLog) desyncs() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.desyncN
}

// waitFor polls cond every 50 ms until it holds or ctx ends.
func waitFor(t *testing.T, ctx context.Context, cond func() bool) {
	t.Helper()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatal("timed out")
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// testWriter sends log lines to t.Log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(b), "\n"))
	return len(b), nil
}
