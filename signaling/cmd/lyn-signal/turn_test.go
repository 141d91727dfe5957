package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lynnet/lyn/internal/syncbuf"
	"github.com/lynnet/lyn/netcode"
	"github.com/lynnet/lyn/rollback"
	rt "github.com/lynnet/lyn/rollback/rollbacktest"
	"github.com/lynnet/lyn/signaling/relay"
	"github.com/pion/stun/v4"
	"github.com/pion/turn/v5"
	"github.com/pion/webrtc/v4"
)

// TestICEServers: the welcome lists every STUN URL once, then each group's
// TURN URLs with credentials minted with that group's secret for the peer,
// valid for the TTL, which the group's server (coturn with
// use-auth-secret, or lyn's relay) accepts.
func TestICEServers(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	embedded, external := []byte("embedded-secret"), []byte("coturn-secret")
	f := iceServers([]iceGroup{
		{urls: []string{"stun:127.0.0.1:3478", "turn:127.0.0.1:3478?transport=udp"}, secret: embedded},
		{urls: []string{"stun:stun.example.com", "turn:turn.example.com:3478", "turns:turn.example.com:5349"}, secret: external},
	}, time.Hour, func() time.Time { return now })
	got := f("peer-7")
	if len(got) != 3 {
		t.Fatalf("got %d entries: %+v", len(got), got)
	}
	if strings.Join(got[0].URLs, " ") != "stun:127.0.0.1:3478 stun:stun.example.com" || got[0].Username != "" {
		t.Errorf("STUN entry %+v", got[0])
	}
	for i, want := range []struct {
		urls   string
		secret []byte
	}{
		{"turn:127.0.0.1:3478?transport=udp", embedded},
		{"turn:turn.example.com:3478 turns:turn.example.com:5349", external},
	} {
		s := got[i+1]
		if strings.Join(s.URLs, " ") != want.urls {
			t.Errorf("entry %d: URLs %v, want %s", i+1, s.URLs, want.urls)
		}
		user, err := relay.CheckCredentials(want.secret, s.Username, s.Credential, now.Add(59*time.Minute))
		if err != nil || user != "peer-7" {
			t.Errorf("entry %d: credentials %q/%q: user %q, %v", i+1, s.Username, s.Credential, user, err)
		}
		if _, err := relay.CheckCredentials(want.secret, s.Username, s.Credential, now.Add(time.Hour)); !errors.Is(err, relay.ErrExpired) {
			t.Errorf("entry %d: valid after the TTL: %v", i+1, err)
		}
	}
	if iceServers([]iceGroup{{secret: embedded}}, time.Hour, time.Now) != nil {
		t.Error("no URL should mean no ICE servers")
	}
	if s := iceServers([]iceGroup{{urls: []string{"turn:t.example"}}}, time.Hour, time.Now)("p"); len(s) != 1 || s[0].Username != "" {
		t.Errorf("a group without a secret got credentials: %+v", s)
	}
}

// TestICEServerFlags: bad -ice-server values fail at start with a clear
// error, before anything listens.
func TestICEServerFlags(t *testing.T) {
	t.Setenv("LYN_TURN_SECRET", "")
	t.Setenv("LYN_ICE_SERVER_SECRET", "")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-ice-server", "http://turn.example.com"}, "want a stun:, stuns:, turn: or turns: URL"},
		{[]string{"-ice-server", "turn:turn.example.com:3478"}, "needs -ice-server-secret"},
	} {
		err := run(append([]string{"-addr", "127.0.0.1:0"}, tc.args...))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: got %v, want %q", tc.args, err, tc.want)
		}
	}
}

// TestExternalTURN runs lyn-signal with no relay of its own, told by flags
// about an external TURN server and its secret (here lyn's relay, standing
// in for a coturn elsewhere, with a secret lyn-signal's embedded relay
// would not have), and plays a relay-only game between two peers that Join
// through it: the credentials in the welcome get them an allocation.
func TestExternalTURN(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a binary")
	}
	secret := "external-turn-secret"
	rs, err := relay.Start(relay.Config{
		ListenAddr: "127.0.0.1:0",
		Secret:     []byte(secret),
		AllowPeer:  func(netip.Addr) bool { return true }, // the peers are on loopback
	})
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	addr := startLynSignal(t, "-ice-server", "turn:"+rs.Addr().String()+"?transport=udp", "-ice-server-secret", secret)
	playRelayOnly(t, "ws://"+addr+"/external-turn", func() {
		if n := rs.Allocations(); n < 2 {
			t.Errorf("the external relay holds %d allocations, want one per peer at least", n)
		}
	})
}

// TestEmbeddedTURN runs lyn-signal with its embedded STUN/TURN relay on
// loopback and plays a relay-only game between two peers that Join through
// it, with the credentials of its welcome.
func TestEmbeddedTURN(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a binary")
	}
	addr := startLynSignal(t, "-turn-addr", "127.0.0.1:0", "-turn-secret", "embedded-turn-secret")
	playRelayOnly(t, "ws://"+addr+"/embedded-turn", nil)
}

// TestCoturnE2E proves lyn's time-limited TURN credentials against a TURN
// server lyn did not write: it starts coturn (Debian package coturn,
// /usr/bin/turnserver) on loopback with use-auth-secret, runs lyn-signal
// with -ice-server pointing at it and its static-auth-secret, and plays a
// relay-only game between two peers that Join through lyn-signal. Skipped
// unless LYN_E2E=1; then a missing turnserver is a failure.
func TestCoturnE2E(t *testing.T) {
	if os.Getenv("LYN_E2E") != "1" {
		t.Skip("set LYN_E2E=1 to run against a real coturn (apt-get install coturn)")
	}
	bin, err := exec.LookPath("turnserver")
	if err != nil {
		t.Fatalf("LYN_E2E=1 but coturn's turnserver is not installed (apt-get install coturn): %v", err)
	}
	const secret = "coturn-e2e-secret"
	dir := t.TempDir()
	port := freePort(t)
	logFile := filepath.Join(dir, "turnserver.log")
	cmd := exec.Command(bin, "-n",
		"--listening-ip=127.0.0.1", "--relay-ip=127.0.0.1", fmt.Sprintf("--listening-port=%d", port),
		"--use-auth-secret", "--static-auth-secret="+secret, "--realm=lyn.test", "--fingerprint",
		"--verbose", "--allow-loopback-peers", // coturn refuses to relay to 127.0.0.0/8 by default
		"--no-cli", "--no-tls", "--no-dtls", "--no-tcp-relay", "--no-stdout-log", "--simple-log",
		"--log-file="+logFile, "--pidfile="+filepath.Join(dir, "turnserver.pid"))
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		cmd.Process.Kill()
		<-exited
		if t.Failed() {
			logs, _ := os.ReadFile(logFile)
			t.Logf("coturn log:\n%s", logs)
		}
	}()
	turnAddr := fmt.Sprintf("127.0.0.1:%d", port)
	waitSTUN(t, turnAddr, exited)

	// coturn really checks the credentials: lyn's get an allocation, the
	// same ones minted with another secret, or expired, do not.
	user, pass := relay.Credentials([]byte(secret), "probe", time.Minute, time.Now())
	if err := allocate(turnAddr, user, pass); err != nil {
		t.Fatalf("allocation with lyn's credentials: %v", err)
	}
	for name, cred := range map[string][2]string{
		"other secret": func() [2]string {
			u, p := relay.Credentials([]byte("wrong"), "probe", time.Minute, time.Now())
			return [2]string{u, p}
		}(),
		"expired": func() [2]string {
			u, p := relay.Credentials([]byte(secret), "probe", -time.Minute, time.Now())
			return [2]string{u, p}
		}(),
	} {
		if err := allocate(turnAddr, cred[0], cred[1]); err == nil {
			t.Errorf("coturn accepted credentials with %s", name)
		}
	}

	addr := startLynSignal(t, "-ice-server", "stun:"+turnAddr, "-ice-server", "turn:"+turnAddr+"?transport=udp",
		"-ice-server-secret", secret)
	playRelayOnly(t, "ws://"+addr+"/coturn", nil)
	logs, _ := os.ReadFile(logFile)
	allocs := regexp.MustCompile(`ALLOCATE processed, success`).FindAll(logs, -1)
	if len(allocs) < 2 {
		t.Errorf("coturn logged %d successful allocations, want one per peer at least", len(allocs))
	}
	t.Logf("coturn logged %d successful allocations", len(allocs))
}

// allocate asks the TURN server at addr for a UDP allocation.
func allocate(addr, user, pass string) error {
	conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer conn.Close()
	c, err := turn.NewClient(&turn.ClientConfig{TURNServerAddr: addr, STUNServerAddr: addr, Username: user, Password: pass, Conn: conn})
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Listen(); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	relayed, err := c.AllocateWithContext(ctx)
	if err != nil {
		return err
	}
	return relayed.Close()
}

// freePort returns a port free for UDP and TCP on 127.0.0.1 (coturn listens
// on both) at the time of the call.
func freePort(t *testing.T) int {
	t.Helper()
	for range 20 {
		pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := pc.LocalAddr().(*net.UDPAddr).Port
		l, err := net.Listen("tcp4", fmt.Sprintf("127.0.0.1:%d", port))
		pc.Close()
		if err == nil {
			l.Close()
			return port
		}
	}
	t.Fatal("no free port")
	return 0
}

// waitSTUN waits until a STUN binding request to addr is answered.
func waitSTUN(t *testing.T, addr string, exited <-chan error) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		select {
		case err := <-exited:
			t.Fatalf("turnserver exited: %v", err)
		default:
		}
		if stunAnswers(addr) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no STUN answer from %s", addr)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func stunAnswers(addr string) bool {
	c, err := net.Dial("udp4", addr)
	if err != nil {
		return false
	}
	defer c.Close()
	msg := stun.MustBuild(stun.TransactionID, stun.BindingRequest)
	if _, err := c.Write(msg.Raw); err != nil {
		return false
	}
	c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	buf := make([]byte, 1500)
	n, err := c.Read(buf)
	if err != nil {
		return false
	}
	var res stun.Message
	res.Raw = buf[:n]
	return res.Decode() == nil && res.Type == stun.BindingSuccess
}

// lynSignalBinary builds lyn-signal once, into binaryDir, for the tests
// that run it.
var (
	binaryDir       string
	lynSignalBinary = sync.OnceValues(func() (string, error) {
		dir, err := os.MkdirTemp("", "lyn-signal-test")
		if err != nil {
			return "", err
		}
		binaryDir = dir
		bin := filepath.Join(dir, "lyn-signal")
		build := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), "build", "-o", bin, ".")
		if out, err := build.CombinedOutput(); err != nil {
			return "", fmt.Errorf("build: %w\n%s", err, out)
		}
		return bin, nil
	})
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binaryDir != "" {
		os.RemoveAll(binaryDir)
	}
	os.Exit(code)
}

// startLynSignal runs lyn-signal on loopback with args and returns its
// address; a cleanup stops it.
func startLynSignal(t *testing.T, args ...string) string {
	t.Helper()
	bin, err := lynSignalBinary()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, append([]string{"-addr", "127.0.0.1:0"}, args...)...)
	cmd.Env = append(os.Environ(), "LYN_TURN_SECRET=", "LYN_ICE_SERVER_SECRET=", "LYN_JOIN_SECRET=")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var logs syncbuf.Buffer
	addrc := make(chan string, 1)
	exited := make(chan error, 1)
	go func() {
		re := regexp.MustCompile(`msg=listening addr=(\S+)`)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			logs.Write(append(sc.Bytes(), '\n'))
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				addrc <- m[1]
			}
		}
		io.Copy(io.Discard, stderr)
		exited <- cmd.Wait()
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("lyn-signal log:\n%s", logs.String())
		}
	})
	select {
	case addr := <-addrc:
		return addr
	case err := <-exited:
		t.Fatalf("lyn-signal exited early: %v\n%s", err, logs.String())
	case <-time.After(20 * time.Second):
		t.Fatalf("no listening line:\n%s", logs.String())
	}
	return ""
}

// playRelayOnly joins two players to url with the relay-only ICE policy
// (so only the ICE servers of the welcome can connect them), checks both
// links are relay → relay, and plays 300 frames of the reference game,
// checking that both peers confirmed every input and agree on every
// checksum, then calls connected (if not nil) before closing the sessions.
// Bounds are generous: this machine may be loaded.
func playRelayOnly(t *testing.T, url string, connected func()) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	recs := []*gameRecorder{{sums: map[rollback.Frame]uint64{}}, {sums: map[rollback.Frame]uint64{}}}
	sessions := make([]*netcode.Session[rt.Input], 2)
	errs := make([]error, 2)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range sessions {
		wg.Go(func() {
			sessions[i], errs[i] = netcode.Join(ctx, netcode.JoinConfig[rt.Input]{
				URL: url, Players: 2, Codec: rollback.UintCodec[rt.Input]{},
				NewGame: func(seed uint64, players int) rollback.Game[rt.Input] { return rt.NewGame(players, seed) },
				Session: rollback.Config[rt.Input]{
					Recorder:          recs[i],
					DisconnectTimeout: time.Hour, DisconnectNotifyStart: time.Hour,
				},
				Net: netcode.Config{LoopbackOnly: true, ICETransportPolicy: webrtc.ICETransportPolicyRelay},
			})
		})
	}
	wg.Wait()
	took := time.Since(start)
	defer func() {
		for _, s := range sessions {
			if s != nil {
				s.Close()
			}
		}
	}()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	for i, s := range sessions {
		ns := s.NetStats()
		if len(ns) != 1 || ns[0].LocalCandidateType != webrtc.ICECandidateTypeRelay || ns[0].RemoteCandidateType != webrtc.ICECandidateTypeRelay {
			t.Fatalf("peer %d: %+v, want one relay → relay link", i, ns)
		}
		t.Logf("peer %d: relay %s → relay %s, ICE RTT %v", i, ns[0].LocalAddress, ns[0].RemoteAddress, ns[0].ICERoundTrip)
	}
	const frames = 300
	input := rt.ReferenceInput(3)
	deadline := time.Now().Add(60 * time.Second)
	for {
		done := true
		for _, s := range sessions {
			p := s.LocalPlayer()
			if err := s.AddLocalInput(p, input(p, s.Frame()+rollback.Frame(s.InputDelay()))); err != nil {
				t.Fatal(err)
			}
			if err := s.AdvanceFrame(); err != nil && !rollback.IsWait(err) {
				t.Fatal(err)
			}
			for _, e := range s.Events(nil) {
				if e.Kind == rollback.EventDesync || e.Kind == rollback.EventPeerDisconnected {
					t.Fatalf("player %d: %v", p, e)
				}
			}
			done = done && s.ConfirmedFrame() >= frames
		}
		if done {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the relayed game did not confirm its frames in time")
		}
		time.Sleep(time.Millisecond)
	}
	compared := 0
	for i, r := range recs {
		for f, row := range r.inputs[:frames] {
			for p, in := range row {
				if want := input(p, rollback.Frame(f)); in != want {
					t.Fatalf("peer %d confirmed %v for player %d at frame %d, sent %v", i, in, p, f, want)
				}
			}
		}
	}
	for f, sum := range recs[0].sums {
		if o, ok := recs[1].sums[f]; ok {
			compared++
			if o != sum {
				t.Fatalf("frame %d: checksums %x and %x", f, sum, o)
			}
		}
	}
	if compared < frames/rollback.DefaultChecksumInterval-1 {
		t.Fatalf("only %d checksums compared", compared)
	}
	t.Logf("relay-only: joined in %v, %d frames, %d checksums compared", took.Round(time.Millisecond), frames, compared)
	if connected != nil {
		connected()
	}
}

// gameRecorder keeps every confirmed frame's inputs and the checksums. The
// sessions call it from AdvanceFrame, on the test's goroutine.
type gameRecorder struct {
	inputs [][]rt.Input // by frame, by player
	sums   map[rollback.Frame]uint64
}

func (r *gameRecorder) RecordFrame(_ rollback.Frame, in []rollback.PlayerInput[rt.Input]) {
	row := make([]rt.Input, len(in))
	for i, p := range in {
		row[i] = p.Input
	}
	r.inputs = append(r.inputs, row)
}

func (r *gameRecorder) RecordChecksum(f rollback.Frame, sum uint64) { r.sums[f] = sum }
