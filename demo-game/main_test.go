//go:build !js

package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lynnet/lyn/internal/syncbuf"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// runDemo runs the demo in process with args and returns its exit status
// and output.
func runDemo(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var out, errOut syncbuf.Buffer
	start := time.Now()
	code = run(ctx, args, &out, &errOut)
	t.Logf("demo-game %s: exit %d after %v\n%s%s", strings.Join(args, " "), code, time.Since(start).Round(time.Millisecond), out.String(), errOut.String())
	return code, out.String(), errOut.String()
}

var (
	finalRE    = regexp.MustCompile(`final checksum at frame (\d+): ([0-9a-f]{16}) \(all (\d+) peers agree\)`)
	rollbackRE = regexp.MustCompile(`frame \d+, (\d+) rollbacks`)
)

// checkHeadless checks a headless run's output: every peer agreed on the
// final checksum, and the bots' delay made rollbacks happen.
func checkHeadless(t *testing.T, code int, out string, peers int) (checksum string) {
	t.Helper()
	if code != exitOK {
		t.Fatalf("exit status %d, want 0", code)
	}
	m := finalRE.FindStringSubmatch(out)
	if m == nil || m[3] != strconv.Itoa(peers) {
		t.Fatalf("no agreement of %d peers in the output", peers)
	}
	rollbacks := 0
	for _, rm := range rollbackRE.FindAllStringSubmatch(out, -1) {
		n, _ := strconv.Atoi(rm[1])
		rollbacks += n
	}
	if rollbacks == 0 {
		t.Fatal("no rollback happened with the bots' delay")
	}
	if c := len(regexp.MustCompile(`(?m)^peer \d+, player \d+: checksum at frame 600: `+m[2]+`$`).FindAllString(out, -1)); c != peers {
		t.Fatalf("%d peers report checksum %s, want %d", c, m[2], peers)
	}
	return m[2]
}

// The headless tests tick faster than the game's 60 Hz (it is the same
// match, only sooner) with a shorter bot delay, so that 600 frames take a
// few seconds.
var fast = []string{"-fps", "180", "-bot-rtt", "40ms"}

func TestHeadlessTwoPeers(t *testing.T) {
	start := time.Now()
	code, out, _ := runDemo(t, append([]string{"-headless", "-frames", "600"}, fast...)...)
	checkHeadless(t, code, out, 2)
	t.Logf("wall time: %v", time.Since(start))
}

func TestHeadlessFourPeers(t *testing.T) {
	code, out, _ := runDemo(t, append([]string{"-headless", "-players", "4", "-frames", "600"}, fast...)...)
	checkHeadless(t, code, out, 4)
}

// TestHostAndJoin hosts a room (signaling, STUN/TURN) with a bot in it and
// joins it from a second run, as a friend would, over the real signaling
// server; all three peers must agree.
func TestHostAndJoin(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var hostOut, hostErr syncbuf.Buffer
	hostCode := make(chan int, 1)
	go func() {
		hostCode <- run(ctx, append([]string{"-host", "127.0.0.1:0", "-public-ip", "127.0.0.1", "-loopback", "-web=false", "-players", "3", "-bots", "1",
			"-headless", "-frames", "600"}, fast...), &hostOut, &hostErr)
	}()
	// The friend runs exactly the command the host printed.
	joinRE := regexp.MustCompile(`go run ./demo-game (-join (ws://\S+).*)\n`)
	var url string
	var friendArgs []string
	for url == "" {
		if m := joinRE.FindStringSubmatch(hostOut.String()); m != nil {
			url, friendArgs = m[2], strings.Fields(m[1])
			break
		}
		select {
		case code := <-hostCode:
			t.Fatalf("host exited with %d before printing the join URL:\n%s%s", code, hostOut.String(), hostErr.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	if !strings.HasPrefix(url, "ws://127.0.0.1:") || !strings.HasSuffix(url, "/lyn") {
		t.Fatalf("join URL %q", url)
	}
	type result struct {
		code int
		out  string
	}
	spectator := make(chan result, 1)
	go func() {
		code, out, _ := runDemo(t, "-join", url, "-spectate", "-loopback", "-headless", "-frames", "600", "-fps", "180")
		spectator <- result{code, out}
	}()
	code, out, _ := runDemo(t, append(friendArgs, "-loopback", "-headless", "-frames", "600", "-fps", "180")...)
	hc := <-hostCode
	spec := <-spectator
	t.Logf("host: exit %d\n%s%s", hc, hostOut.String(), hostErr.String())
	joinSum := finalRE.FindStringSubmatch(out)
	hostSum := finalRE.FindStringSubmatch(hostOut.String())
	if code != exitOK || hc != exitOK || joinSum == nil || hostSum == nil {
		t.Fatalf("exit statuses %d (join) and %d (host), want 0 and agreement", code, hc)
	}
	if joinSum[2] != hostSum[2] {
		t.Fatalf("the friend's checksum at frame 600 is %s, the host's %s", joinSum[2], hostSum[2])
	}
	// The spectator watched from the host's stream and computed the same
	// state at frame 600.
	if specSum := regexp.MustCompile(`peer 1, spectator: checksum at frame 600: ([0-9a-f]{16})`).FindStringSubmatch(spec.out); spec.code != exitOK || specSum == nil || specSum[1] != hostSum[2] {
		t.Fatalf("spectator: exit %d, output:\n%s\nwant the host's checksum %s", spec.code, spec.out, hostSum[2])
	}
	if !strings.Contains(hostOut.String(), "STUN/TURN for them: [stun:127.0.0.1:") {
		t.Fatal("the host did not print its STUN/TURN URLs")
	}
}

// TestRecordReplay records a headless match and replays it: every recorded
// checksum is reproduced, and the state at frame 600 is the one the peers
// agreed on. A damaged recording is a clear error.
func TestRecordReplay(t *testing.T) {
	file := filepath.Join(t.TempDir(), "match.lynreplay")
	code, out, _ := runDemo(t, append([]string{"-headless", "-frames", "600", "-record", file}, fast...)...)
	sum := checkHeadless(t, code, out, 2)

	code, out, _ = runDemo(t, "-replay", file, "-headless", "-frames", "600")
	if code != exitOK {
		t.Fatalf("replay: exit %d", code)
	}
	m := regexp.MustCompile(`(\d+) frames, (\d+) checksums verified, final checksum ([0-9a-f]{16})`).FindStringSubmatch(out)
	if m == nil || m[1] != "600" || m[3] != sum {
		t.Fatalf("replay to frame 600 did not end at the match's checksum %s", sum)
	}
	if n, _ := strconv.Atoi(m[2]); n < 600/30-1 {
		t.Fatalf("only %s checksums verified in 600 frames", m[2])
	}
	code, out, _ = runDemo(t, "-replay", file, "-headless")
	if code != exitOK || !strings.Contains(out, "checksums verified") {
		t.Fatalf("full replay: exit %d", code)
	}

	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)/2] ^= 0x40
	bad := filepath.Join(t.TempDir(), "damaged.lynreplay")
	if err := os.WriteFile(bad, data, 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := runDemo(t, "-replay", bad, "-headless")
	if code != exitFail || !strings.Contains(errOut, "corrupt replay") || !strings.Contains(errOut, "frame") {
		t.Fatalf("damaged replay: exit %d, stderr %q; want 1 and a corrupt-replay error naming the frame", code, errOut)
	}
	code, _, errOut = runDemo(t, "-replay", filepath.Join(t.TempDir(), "missing"), "-headless")
	if code != exitFail || !strings.Contains(errOut, "no such file") {
		t.Fatalf("missing replay: exit %d, stderr %q", code, errOut)
	}
}

func TestSyncTestPasses(t *testing.T) {
	code, out, _ := runDemo(t, "-sync-test", "-headless", "-players", "4", "-frames", "1200")
	if code != exitOK || !strings.Contains(out, "sync test passed: 1200 frames, 4 players") {
		t.Fatalf("exit %d", code)
	}
}

func TestBadFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-players", "9"}, "-players 9"},
		{[]string{"-players", "1"}, "-players 1"},
		{[]string{"-bots", "8"}, "makes 9 players"},
		{[]string{"-players", "3", "-bots", "1"}, "disagree"},
		{[]string{"-delay", "-1"}, "-delay -1"},
		{[]string{"-delay", "31"}, "-delay 31"},
		{[]string{"-frames", "-5"}, "-frames -5"},
		{[]string{"-bot-rtt", "-1ms"}, "-bot-rtt"},
		{[]string{"-bot-rtt", "5s"}, "-bot-rtt"},
		{[]string{"-fps", "0"}, "-fps 0"},
		{[]string{"-host", ":8080", "-join", "ws://x/y"}, "exclude each other"},
		{[]string{"-join", "http://example.com/room"}, "ws:// or wss://"},
		{[]string{"-join", "ws://x/y", "-bots", "2"}, "-bots"},
		{[]string{"-host", "8080"}, "host:port"},
		{[]string{"-replay", "f", "-record", "g"}, "-record"},
		{[]string{"-replay", "f", "-players", "3"}, "-players has no meaning"},
		{[]string{"-sync-test", "-relay"}, "-relay has no meaning"},
		{[]string{"-join", "ws://x/y", "-stun", "turn:x:1"}, "stun: or stuns:"},
		{[]string{"-join", "ws://x/y", "-turn", "turn:x:3478"}, "needs user:pass@"},
		{[]string{"-join", "ws://x/y", "-turn", "turn::p@x:3478"}, "user:pass@"},
		{[]string{"-join", "ws://x/y", "-stun", "stun:u:p@x:3478"}, "no credentials"},
		{[]string{"-stun", "stun:x:3478"}, "go with -host or -join"},
		{[]string{"-public-ip", "1.2.3.4"}, "go with -host"},
		{[]string{"-loopback"}, "-loopback"},
		{[]string{"-room", "a/b", "-host", ":0"}, "-room"},
		{[]string{"-log-level", "loud"}, "-log-level"},
		{[]string{"-check-distance", "0", "-sync-test"}, "-check-distance"},
		{[]string{"-headless", "-spectate"}, "-spectate"},
		{[]string{"-host", ":0", "-players", "2", "-bots", "2"}, "seats besides the host"},
		{[]string{"-host", ":abc"}, "-host"},
		{[]string{"-host", ":99999"}, "-host"},
		{[]string{"-host", ":0", "-public-ip", "foo"}, "-public-ip"},
		{[]string{"-host", ":0", "-public-ip", "::1"}, "IPv4"},
		{[]string{"-host", ":0", "-relay-ports", "5-1"}, "-relay-ports"},
		{[]string{"-host", ":0", "-relay-ports", "x"}, "-relay-ports"},
		{[]string{"-relay-ports", "1-2"}, "go with -host"},
		{[]string{"-serve"}, "-serve goes with -host"},
		{[]string{"-host", ":0", "-serve", "-headless"}, "-serve plays no match"},
		{[]string{"-no-such-flag"}, "not defined"},
		{[]string{"stray"}, "unexpected argument"},
	} {
		code, _, errOut := runDemo(t, tc.args...)
		if code != exitUsage || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", tc.args, code, errOut, tc.want)
		}
	}
}

func TestGoodTurnFlag(t *testing.T) {
	o, err := parseFlags([]string{"-join", "ws://h:1/r", "-turn", "turn:al:pw@turn.example:3478?transport=udp,turns:b:q@t2.example:5349", "-stun", "stun:s.example:3478"}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if len(o.turn) != 2 || o.turn[0].URLs[0] != "turn:turn.example:3478?transport=udp" || o.turn[0].Username != "al" || o.turn[0].Credential != "pw" ||
		o.turn[1].URLs[0] != "turns:t2.example:5349" || o.turn[1].Username != "b" {
		t.Fatalf("parsed TURN servers %+v", o.turn)
	}
	if len(o.stun) != 1 || o.stun[0].URLs[0] != "stun:s.example:3478" {
		t.Fatalf("parsed STUN servers %+v", o.stun)
	}
}

// FuzzParseFlags: any command line parses to options or a usage error,
// never a panic.
func FuzzParseFlags(f *testing.F) {
	f.Add("-join", "ws://h:1/signal/r", "-turn", "turn:u:p@h:3478?transport=udp")
	f.Add("-host", ":8080", "-stun", "stun:a:1,stuns:b:2")
	f.Add("-players", "4", "-bots", "3")
	f.Add("-turn", "turns:@:", "-stun", "stun:@")
	f.Fuzz(func(t *testing.T, a, b, c, d string) {
		o, err := parseFlags([]string{a, b, c, d}, io.Discard)
		if err == nil && (o.players < 2 || o.players > 8) && !o.syncTest && o.replay == "" {
			t.Fatalf("accepted %q with %d players", []string{a, b, c, d}, o.players)
		}
	})
}

// TestPrintReportsAgreement: a headless run passes only when every peer
// reached the frame with the same checksum, compared checksums with the
// others, saw no desync and lost no player before the frame.
func TestPrintReportsAgreement(t *testing.T) {
	ok := matchReport{Player: 0, Frames: 610, Reached: true, FinalChecksum: 0xabc, Compared: 20, FirstDisconnect: -1}
	with := func(f func(*matchReport)) matchReport {
		r := ok
		f(&r)
		return r
	}
	for _, tc := range []struct {
		name    string
		reports []matchReport
		peers   int
		want    bool
	}{
		{"agree", []matchReport{ok, with(func(r *matchReport) { r.Player = 1 })}, 2, true},
		{"left after the frame", []matchReport{ok, with(func(r *matchReport) { r.FirstDisconnect = 605 })}, 2, true},
		{"checksums differ", []matchReport{ok, with(func(r *matchReport) { r.FinalChecksum = 0xdef })}, 2, false},
		{"desync", []matchReport{ok, with(func(r *matchReport) { r.Desyncs = 1 })}, 2, false},
		{"not reached", []matchReport{ok, with(func(r *matchReport) { r.Reached = false })}, 2, false},
		{"nothing compared", []matchReport{with(func(r *matchReport) { r.Compared = 0 })}, 1, false},
		{"left before the frame", []matchReport{ok, with(func(r *matchReport) { r.FirstDisconnect = 300 })}, 2, false},
		{"a peer missing", []matchReport{ok}, 2, false},
	} {
		var out bytes.Buffer
		r := &runner{o: &options{frames: 600}, stdout: &out}
		if got := r.printReports(tc.reports, tc.peers); got != tc.want {
			t.Errorf("%s: agreed = %v, want %v\n%s", tc.name, got, tc.want, out.String())
		}
	}
}

// TestHeadlessRelayOnly: with -relay both peers go through the in-process
// TURN relay, and still agree.
func TestHeadlessRelayOnly(t *testing.T) {
	code, out, _ := runDemo(t, append([]string{"-headless", "-relay", "-frames", "600"}, fast...)...)
	checkHeadless(t, code, out, 2)
	if n := strings.Count(out, ", relay, "); n != 2 {
		t.Fatalf("%d peers report a relay candidate pair, want 2", n)
	}
}

// TestServeOnly: -host -serve serves the rooms, STUN/TURN and the page
// without a local player or a display, prints what friends run (with the
// room's player count) and which ports to open, and stops cleanly when
// interrupted.
func TestServeOnly(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var out, errOut syncbuf.Buffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"-host", "127.0.0.1:0", "-public-ip", "127.0.0.1", "-serve", "-web=false", "-players", "4", "-relay-ports", "50100-50163"}, &out, &errOut)
	}()
	for !strings.Contains(out.String(), "serving until interrupted") {
		select {
		case code := <-done:
			t.Fatalf("exited with %d before serving:\n%s%s", code, out.String(), errOut.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	for _, want := range []string{"-players 4", "open TCP port", "UDP ports 50100-50163"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the host's instructions lack %q:\n%s", want, out.String())
		}
	}
	cancel()
	if code := <-done; code != exitOK {
		t.Fatalf("exit %d after the interrupt:\n%s", code, errOut.String())
	}
}

// TestHostServesBrowserPage: -host serves the browser build's page and
// wasm_exec.js next to the rooms, at the URL it prints for a friend with a
// browser (the page names the .wasm by its source hash; the .wasm itself is
// built in the background, which the browser's end-to-end test waits for).
func TestHostServesBrowserPage(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("the page is built by the go command, not on PATH here")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var out, errOut syncbuf.Buffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"-host", "127.0.0.1:0", "-public-ip", "127.0.0.1", "-serve"}, &out, &errOut)
	}()
	pageRE := regexp.MustCompile(`a friend with a browser: +(http://\S+)`)
	var page string
	for page == "" {
		if m := pageRE.FindStringSubmatch(out.String()); m != nil {
			page = m[1]
			break
		}
		select {
		case code := <-done:
			t.Fatalf("exited with %d before printing the page URL:\n%s%s", code, out.String(), errOut.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	get := func(url string) (int, string, string) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("GET %s: %v", url, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("Content-Type"), string(b)
	}
	code, ctype, body := get(page)
	if code != http.StatusOK || !strings.HasPrefix(ctype, "text/html") || !regexp.MustCompile(`lyn-[0-9a-f]+\.wasm`).MatchString(body) {
		t.Fatalf("GET %s: %d %s\n%.400s", page, code, ctype, body)
	}
	u, _ := url.Parse(page)
	if code, ctype, _ := get(u.Scheme + "://" + u.Host + "/wasm_exec.js"); code != http.StatusOK || !strings.Contains(ctype, "javascript") {
		t.Fatalf("GET /wasm_exec.js: %d %s", code, ctype)
	}
	cancel() // stops the background wasm build too
	if code := <-done; code != exitOK {
		t.Fatalf("exit %d after the interrupt:\n%s", code, errOut.String())
	}
}
