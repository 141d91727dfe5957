//go:build !js

package signaling

import (
	"bufio"
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/lynnet/lyn/internal/syncbuf"
)

func TestLimitMaxMessageBytes(t *testing.T) {
	ts := startServer(t, Config{MaxMessageBytes: 1024})
	room := freshRoom("big")
	a := dial(t, ts.url(room), ClientConfig{})
	ws, _ := rawDial(t, ts.url(room), nil)
	waitFor[*Start](t, a)
	huge := `{"type":"signal","to":"` + string(a.ID()) + `","data":"` + strings.Repeat("x", 4096) + `"}`
	rawSend(t, ws, huge)
	err, _ := rawReadUntilClose(t, ws)
	if websocket.CloseStatus(err) != websocket.StatusMessageTooBig {
		t.Fatalf("want close 1009, got %v", err)
	}
	// Only that connection: a stays, and sees the offender leave.
	if pl := waitFor[*PeerLeft](t, a); pl.ID == a.ID() {
		t.Fatal("wrong peer left")
	}
	assertRoomWorks(t, ts)
	if ts.Stats().Rejects["message-too-big"] != 1 {
		t.Fatal("reject not counted")
	}
}

func TestLimitMessageRate(t *testing.T) {
	ts := startServer(t, Config{MessagesPerSecond: 1, MessageBurst: 5})
	room := freshRoom("rate")
	a := dial(t, ts.url(room), ClientConfig{})
	ws, _ := rawDial(t, ts.url(room), nil)
	waitFor[*Start](t, a)
	msg := `{"type":"signal","to":"` + string(a.ID()) + `","data":1}`
	for range 20 {
		if err := ws.Write(context.Background(), websocket.MessageText, []byte(msg)); err != nil {
			break // closed under us: fine
		}
	}
	err, last := rawReadUntilClose(t, ws)
	if last == nil || last.Code != CodeRateLimited || !last.Fatal {
		t.Fatalf("want a fatal rate-limited error, got %+v", last)
	}
	if websocket.CloseStatus(err) != websocket.StatusPolicyViolation {
		t.Fatalf("want close 1008, got %v", err)
	}
	assertRoomWorks(t, ts)
}

// testIP lets a test pick its client IP per request.
func testIP(r *http.Request) string {
	if ip := r.Header.Get("X-Test-IP"); ip != "" {
		return ip
	}
	return remoteIP(r)
}

func TestLimitConnsPerIP(t *testing.T) {
	ts := startServer(t, Config{MaxConnsPerIP: 2, ClientIP: testIP})
	hdr := http.Header{"X-Test-IP": {"192.0.2.7"}}
	ws1, _ := rawDial(t, ts.url(freshRoom("ip")), hdr)
	rawDial(t, ts.url(freshRoom("ip")), hdr)
	_, resp, err := websocket.Dial(context.Background(), ts.url(freshRoom("ip")), &websocket.DialOptions{HTTPHeader: hdr})
	if err == nil || resp == nil || resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("third connection from one IP: err %v resp %v", err, resp)
	}
	assertRoomWorks(t, ts) // other IPs are unaffected
	// Freeing a slot lets that IP in again.
	ws1.Close(websocket.StatusNormalClosure, "")
	eventually(t, "slot freed", func() bool { return ts.Stats().Connections == 1 })
	rawDial(t, ts.url(freshRoom("ip")), hdr)
	if ts.Stats().Rejects[string(CodeTooManyConnections)] != 1 {
		t.Fatal("reject not counted")
	}
}

func TestLimitMaxRooms(t *testing.T) {
	ts := startServer(t, Config{MaxRooms: 1})
	room := freshRoom("rooms")
	a := dial(t, ts.url(room), ClientConfig{})
	if _, err := Dial(context.Background(), ts.url(freshRoom("rooms")), ClientConfig{}); !isCode(err, CodeTooManyRooms) {
		t.Fatalf("want too-many-rooms, got %v", err)
	}
	// The existing room keeps working.
	b := dial(t, ts.url(room), ClientConfig{})
	waitFor[*Start](t, a)
	send(t, b, a.ID(), `"hi"`)
	waitFor[*Signal](t, a)
	a.Close()
	b.Close()
	eventually(t, "room gone", func() bool { return ts.Stats().Rooms == 0 })
	assertRoomWorks(t, ts) // and a new one fits once it is gone
}

func TestLimitPeersPerRoom(t *testing.T) {
	ts := startServer(t, Config{MaxPeersPerRoom: 3})
	room := freshRoom("peers")
	dial(t, ts.url(room), ClientConfig{})
	dial(t, ts.url(room), ClientConfig{})
	dial(t, ts.url(room), ClientConfig{Spectator: true})
	if _, err := Dial(context.Background(), ts.url(room), ClientConfig{Spectator: true}); !isCode(err, CodeRoomFull) {
		t.Fatalf("want room-full, got %v", err)
	}
	assertRoomWorks(t, ts)
}

func TestLimitHandshakeTimeout(t *testing.T) {
	ts := startServer(t, Config{HandshakeTimeout: 200 * time.Millisecond})
	// The clock starts before the dial: the server's starts at accept,
	// which can come before a preempted Dial returns here.
	start := time.Now()
	nc, err := net.Dial("tcp", ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	// Half a request, then nothing.
	nc.Write([]byte("GET /slow HTTP/1.1\r\nHost: x\r\n"))
	assertRoomWorks(t, ts) // meanwhile
	nc.SetReadDeadline(time.Now().Add(waitLimit))
	_, err = bufio.NewReader(nc).ReadString('\n')
	for err == nil {
		_, err = bufio.NewReader(nc).ReadString('\n')
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatal("server did not close a stalled handshake")
	}
	if d := time.Since(start); d < 200*time.Millisecond {
		t.Fatalf("closed after %v, before the timeout", d)
	}
}

func TestLimitIdleTimeout(t *testing.T) {
	ts := startServer(t, Config{PingInterval: 30 * time.Millisecond, IdleTimeout: 150 * time.Millisecond})
	room := freshRoom("idle")
	a := dial(t, ts.url(room), ClientConfig{}) // reads, so answers pings
	silent, _ := rawDial(t, ts.url(room), nil) // never reads again: never pongs
	_ = silent
	waitFor[*Start](t, a)
	start := time.Now()
	if pl := waitFor[*PeerLeft](t, a); pl.ID == a.ID() {
		t.Fatal("wrong peer left")
	}
	if d := time.Since(start); d < 100*time.Millisecond {
		t.Fatalf("silent peer dropped after %v", d)
	}
	if ts.Stats().Rejects["idle-timeout"] != 1 {
		t.Fatalf("rejects %v", ts.Stats().Rejects)
	}
	// a, answering pings, outlived several idle timeouts and still works.
	b := dial(t, ts.url(room+"-2"), ClientConfig{})
	_ = b
	assertRoomWorks(t, ts)
	if ts.Stats().Rejects["idle-timeout"] != 1 {
		t.Fatal("a live client was closed as idle")
	}
}

var stallLog *syncbuf.Buffer

func TestLimitStalledClientNeverHoldsUpOthers(t *testing.T) {
	stallLog = &syncbuf.Buffer{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Log(stallLog.String())
		}
	})
	// Small socket buffers on the server side (accepted sockets inherit the listener's),
	// so that writes to a client that does not read block after some KiB, not megabytes.
	smallSendBuffer := &net.ListenConfig{Control: func(_, _ string, rc syscall.RawConn) error {
		return rc.Control(func(fd uintptr) {
			syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_SNDBUF, 8192)
		})
	}}
	ts := startServerWith(t, Config{
		SendQueueLen: 64, WriteTimeout: 300 * time.Millisecond, Logger: slog.New(slog.NewTextHandler(stallLog, &slog.HandlerOptions{Level: slog.LevelDebug})),
		MessagesPerSecond: 1e6, MessageBurst: 1e6, MaxMessageBytes: 1 << 20,
	}, smallSendBuffer)
	room := freshRoom("stall")
	a := dial(t, ts.url(room), ClientConfig{Players: 3})
	b := dial(t, ts.url(room), ClientConfig{Players: 3})
	// The stalled client never reads after its welcome, and has a tiny receive buffer so
	// that the server's writes block after a few hundred KiB rather than megabytes.
	tinyBuffer := &http.Client{Transport: &http.Transport{DialContext: (&net.Dialer{
		Control: func(_, _ string, rc syscall.RawConn) error {
			return rc.Control(func(fd uintptr) {
				syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
			})
		},
	}).DialContext}}
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	stalled, _, err := websocket.Dial(ctx, ts.url(room), &websocket.DialOptions{HTTPClient: tinyBuffer})
	cancel()
	if err != nil {
		t.Fatal(err)
	}
	defer stalled.CloseNow()
	waitFor[*Start](t, a)
	waitFor[*Start](t, b)
	var stalledID PeerID
	for _, p := range ts.roomMembers(room) {
		if p != a.ID() && p != b.ID() {
			stalledID = p
		}
	}
	// Flood the stalled peer with 16 KiB signals (up to 200) until the server gives up on it.
	// The flood stops once the stalled peer is gone: each signal to a peer that left earns
	// the sender an error message, and a sender that sends faster than it reads those is
	// itself a slow consumer (seen once in 30 runs on a loaded machine).
	payload := `"` + strings.Repeat("x", 16<<10) + `"`
	start := time.Now()
	stop := make(chan struct{})
	flooded := make(chan error, 1)
	go func() {
		defer close(flooded)
		for range 200 {
			select {
			case <-stop:
				return
			default:
			}
			if !slices.Contains(ts.roomMembers(room), stalledID) {
				return
			}
			ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
			err := a.Send(ctx, stalledID, []byte(payload))
			cancel()
			if err != nil {
				flooded <- err
				return
			}
		}
	}()
	// Meanwhile b's traffic through the same room flows.
	send(t, b, a.ID(), `"b is not held up"`)
	if s := waitFor[*Signal](t, a); s.From != b.ID() {
		t.Fatalf("a got %+v", s)
	}
	if pl := waitFor[*PeerLeft](t, b); pl.ID != stalledID {
		t.Fatalf("peer-left %s", pl.ID)
	}
	close(stop)
	if err := <-flooded; err != nil {
		t.Fatalf("the flooding sender was hurt: %v", err)
	}
	st := ts.Stats()
	if st.Rejects["slow-consumer"]+st.Rejects["write-timeout"] == 0 {
		t.Log(stallLog.String())
		t.Fatalf("stalled client not cut off: %v", st.Rejects)
	}
	assertRoomWorks(t, ts)
	t.Logf("flood and cut-off took %v", time.Since(start))
}

func TestLimitAllowedOrigins(t *testing.T) {
	ts := startServer(t, Config{AllowedOrigins: []string{"game.example"}})
	_, resp, err := websocket.Dial(context.Background(), ts.url(freshRoom("o")),
		&websocket.DialOptions{HTTPHeader: http.Header{"Origin": {"https://evil.example"}}})
	if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("foreign origin: err %v resp %v", err, resp)
	}
	rawDial(t, ts.url(freshRoom("o")), http.Header{"Origin": {"https://game.example"}})
	assertRoomWorks(t, ts) // no Origin header (a native client) is allowed
	if ts.Stats().Rejects["bad-origin"] != 1 {
		t.Fatal("reject not counted")
	}
}

func TestLimitJoinTokens(t *testing.T) {
	secret := []byte("test secret")
	now := time.Unix(1_800_000_000, 0)
	ts := startServer(t, Config{JoinSecret: secret, Now: func() time.Time { return now }})
	room := freshRoom("tok")
	name := room[1:]
	ctx := context.Background()
	good := MintJoinToken(secret, name, now.Add(time.Minute))
	for _, tc := range []struct {
		token string
		code  ErrorCode
	}{
		{"", CodeBadToken},
		{MintJoinToken([]byte("wrong"), name, now.Add(time.Minute)), CodeBadToken},
		{MintJoinToken(secret, "other-room", now.Add(time.Minute)), CodeBadToken},
		{MintJoinToken(secret, name, now.Add(-time.Second)), CodeTokenExpired},
		{strings.Replace(good, good[:3], "999", 1), CodeBadToken}, // expiry edited
		{"garbage", CodeBadToken},
	} {
		if _, err := Dial(ctx, ts.url(room), ClientConfig{JoinToken: tc.token}); !isCode(err, tc.code) {
			t.Errorf("token %q: want %s, got %v", tc.token, tc.code, err)
		}
	}
	a := dial(t, ts.url(room), ClientConfig{JoinToken: good})
	b := dial(t, ts.url(room), ClientConfig{JoinToken: good})
	waitFor[*Start](t, a)
	send(t, a, b.ID(), `"ok"`)
	waitFor[*Signal](t, b)
}

func TestBadMessagesThenClose(t *testing.T) {
	ts := startServer(t, Config{MaxBadMessages: 3})
	room := freshRoom("bad")
	a := dial(t, ts.url(room), ClientConfig{})
	ws, _ := rawDial(t, ts.url(room), nil)
	waitFor[*Start](t, a)
	rawRead(t, ws) // start
	for _, tc := range []struct {
		msg  string
		code ErrorCode
	}{
		{`{"type":"signal"`, CodeBadMessage},
		{`{"type":"dance"}`, CodeUnknownType},
	} {
		rawSend(t, ws, tc.msg)
		e, ok := rawRead(t, ws).(*Error)
		if !ok || e.Code != tc.code || e.Fatal || e.Message == "" {
			t.Fatalf("%s: got %+v", tc.msg, e)
		}
	}
	// Good messages still work between bad ones.
	rawSend(t, ws, `{"type":"signal","to":"`+string(a.ID())+`","data":{}}`)
	waitFor[*Signal](t, a)
	rawSend(t, ws, `[]`)
	err, last := rawReadUntilClose(t, ws)
	if last == nil || last.Code != CodeTooManyBadMessages || websocket.CloseStatus(err) != websocket.StatusPolicyViolation {
		t.Fatalf("want too-many-bad-messages and 1008, got %+v %v", last, err)
	}
	if !strings.Contains(last.Message, "not a JSON object") {
		t.Fatalf("reason does not name the problem: %q", last.Message)
	}
	assertRoomWorks(t, ts)
}

func TestConfigDefaults(t *testing.T) {
	c := Config{}.withDefaults()
	if c.MaxMessageBytes != 64<<10 || c.MessagesPerSecond != 50 || c.MessageBurst != 100 ||
		c.MaxBadMessages != 5 || c.MaxConnsPerIP != 32 || c.MaxRooms != 10_000 || c.MaxPeersPerRoom != 16 ||
		c.HandshakeTimeout != 10*time.Second || c.PingInterval != 10*time.Second || c.IdleTimeout != 30*time.Second ||
		c.SendQueueLen != 256 || c.WriteTimeout != 5*time.Second || c.ResumeGrace != 30*time.Second ||
		c.MaxPendingMessages != 128 || c.Logger == nil || c.Now == nil || c.ClientIP == nil {
		t.Fatalf("defaults changed; update the Config docs and PROTOCOL.md: %+v", c)
	}
	n := Config{MaxRooms: -1, MaxConnsPerIP: -1, PingInterval: -time.Second, SendQueueLen: -3, ResumeGrace: -1}.withDefaults()
	if n.MaxRooms < 1<<30 || n.MaxConnsPerIP < 1<<30 || n.PingInterval != 10*time.Second || n.SendQueueLen != 256 || n.ResumeGrace >= 0 {
		t.Fatalf("negative values: %+v", n)
	}
}

// Messages for a peer in its grace period are bounded: past MaxPendingMessages the grace
// ends early and the others see peer-left.
func TestLimitGraceQueue(t *testing.T) {
	ts := startServer(t, Config{ResumeGrace: time.Minute, MaxPendingMessages: 3})
	room := freshRoom("graceq")
	a := dial(t, ts.url(room), ClientConfig{})
	ws, m := rawDial(t, ts.url(room), nil)
	w := m.(*Welcome)
	waitFor[*Start](t, a)
	ws.CloseNow()
	eventually(t, "peer in grace", func() bool { return ts.Stats().PeersInGrace == 1 })
	for range 3 {
		send(t, a, w.ID, `"queued"`)
	}
	eventually(t, "3 queued", func() bool { return ts.Stats().MessagesRelayed == 3 })
	send(t, a, w.ID, `"one too many"`)
	if pl := waitFor[*PeerLeft](t, a); pl.ID != w.ID {
		t.Fatalf("peer-left %s", pl.ID)
	}
	if _, err := Dial(context.Background(), ts.url(room+"?resume="+w.ResumeToken), ClientConfig{}); !isCode(err, CodeBadResume) {
		t.Fatalf("resume after overflow: %v", err)
	}
	assertRoomWorks(t, ts)
}

// A fatal error during a session ends the Client with that *Error, without a resume.
func TestClientEndsWithFatalError(t *testing.T) {
	ts := startServer(t, Config{MessagesPerSecond: 0.001, MessageBurst: 2})
	room := freshRoom("fatal")
	a := dial(t, ts.url(room), ClientConfig{})
	b := dial(t, ts.url(room), ClientConfig{})
	waitFor[*Start](t, b)
	for range 3 {
		ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
		b.Send(ctx, a.ID(), []byte(`"x"`)) // the third is over the limit
		cancel()
	}
	err := waitEnd(t, b)
	var e *Error
	if !errors.As(err, &e) || e.Code != CodeRateLimited || !e.Fatal {
		t.Fatalf("client ended with %v, want a fatal rate-limited *Error", err)
	}
	if !errors.Is(err, &Error{Code: CodeRateLimited}) {
		t.Fatal("errors.Is by code does not match")
	}
	if pl := waitFor[*PeerLeft](t, a); pl.ID != b.ID() {
		t.Fatalf("peer-left %s", pl.ID)
	}
}

// Messages the server had queued but not yet written when a socket dropped are not lost:
// they wait in the grace period and arrive after the resume.
func TestUnsentMessagesSurviveADrop(t *testing.T) {
	smallSendBuffer := &net.ListenConfig{Control: func(_, _ string, rc syscall.RawConn) error {
		return rc.Control(func(fd uintptr) {
			syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_SNDBUF, 8192)
		})
	}}
	ts := startServerWith(t, Config{
		SendQueueLen: 64, WriteTimeout: 10 * time.Second, ResumeGrace: 10 * time.Second,
		MessagesPerSecond: -1, MaxMessageBytes: 1 << 20,
	}, smallSendBuffer)
	room := freshRoom("unsent")
	a := dial(t, ts.url(room), ClientConfig{})
	b, m := rawDial(t, ts.url(room), nil) // stops reading after its welcome
	w := m.(*Welcome)
	waitFor[*Start](t, a)
	var bconn *conn
	ts.mu.Lock()
	for c := range ts.conns {
		if c.peer != nil && c.peer.id == w.ID {
			bconn = c
		}
	}
	ts.mu.Unlock()
	queued := func() int { bconn.mu.Lock(); defer bconn.mu.Unlock(); return len(bconn.queue) }
	payload := `"` + strings.Repeat("y", 16<<10) + `"`
	for i := 0; queued() < 2; i++ {
		if i == 60 {
			t.Fatal("the server's writes to b never blocked")
		}
		send(t, a, w.ID, payload)
		time.Sleep(5 * time.Millisecond) // let the writer reach the socket; bounded by i
	}
	send(t, a, w.ID, `"marker"`)
	eventually(t, "marker queued", func() bool { return queued() >= 3 })
	b.CloseNow() // unread data: the kernel resets the connection
	eventually(t, "b in grace", func() bool { return ts.Stats().PeersInGrace == 1 })

	b2, m2 := rawDial(t, ts.url(room+"?resume="+w.ResumeToken), nil)
	if !m2.(*Welcome).Resumed {
		t.Fatal("not resumed")
	}
	for {
		if s, ok := rawRead(t, b2).(*Signal); ok && string(s.Data) == `"marker"` {
			break
		}
	}
}
