//go:build !js

package signaling

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"go.uber.org/goleak"
)

func TestRoomFillsAndStarts(t *testing.T) {
	ts := startServer(t, Config{})
	for n := 2; n <= 8; n++ {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			room := freshRoom("fill")
			var clients []*Client
			var joined []PeerID
			for i := range n {
				c := dial(t, ts.url(room), ClientConfig{Players: n})
				w := c.Welcome()
				if w.Version != ProtocolVersion || w.Players != n || w.Role != RolePlayer || len(w.Peers) != i {
					t.Fatalf("welcome %d: %+v", i, w)
				}
				clients = append(clients, c)
				joined = append(joined, c.ID())
			}
			var first *Start
			for i, c := range clients {
				// Earlier joiners see one peer-joined per later joiner, then start.
				for j := i + 1; j < n; j++ {
					pj, ok := recv(t, c).(*PeerJoined)
					if !ok || pj.Peer.ID != joined[j] {
						t.Fatalf("client %d: want peer-joined %s, got %+v", i, joined[j], pj)
					}
				}
				s, ok := recv(t, c).(*Start)
				if !ok {
					t.Fatalf("client %d: want start", i)
				}
				if !slices.Equal(s.Order, joined) {
					t.Fatalf("order %v, want join order %v", s.Order, joined)
				}
				if first == nil {
					first = s
				} else if s.Seed != first.Seed {
					t.Fatalf("seed %d != %d", s.Seed, first.Seed)
				}
			}
		})
	}
}

func TestPlayersMismatchAndBadRequests(t *testing.T) {
	ts := startServer(t, Config{})
	room := freshRoom("mismatch")
	dial(t, ts.url(room), ClientConfig{Players: 3})
	ctx := context.Background()
	_, err := Dial(ctx, ts.url(room), ClientConfig{Players: 4})
	if !isCode(err, CodePlayersMismatch) {
		t.Fatalf("want players-mismatch, got %v", err)
	}
	// No players given: the room's size is taken.
	c := dial(t, ts.url(room), ClientConfig{})
	if c.Welcome().Players != 3 {
		t.Fatalf("players %d", c.Welcome().Players)
	}
	for url, code := range map[string]ErrorCode{
		ts.url("/bad%20room"):                 CodeBadRoom,
		ts.url("/" + strings.Repeat("x", 65)): CodeBadRoom,
		ts.url("/r?players=9"):                CodeBadRequest,
		ts.url("/r?players=1"):                CodeBadRequest,
		ts.url("/r?role=king"):                CodeBadRequest,
		ts.url("/r?v=2"):                      CodeBadVersion,
		ts.url("/r?resume=nope"):              CodeBadResume,
	} {
		if _, err := Dial(ctx, url, ClientConfig{}); !isCode(err, code) {
			t.Errorf("%s: want %s, got %v", url, code, err)
		}
	}
}

func TestSpectators(t *testing.T) {
	ts := startServer(t, Config{})
	room := freshRoom("spect")
	early := dial(t, ts.url(room), ClientConfig{Spectator: true})
	if early.Welcome().Role != RoleSpectator || early.Welcome().Start != nil {
		t.Fatalf("early spectator welcome %+v", early.Welcome())
	}
	a := dial(t, ts.url(room), ClientConfig{})
	b := dial(t, ts.url(room), ClientConfig{})
	s := waitFor[*Start](t, a)
	if len(s.Order) != 2 || s.Order[0] != a.ID() || s.Order[1] != b.ID() {
		t.Fatalf("order %v: spectators must not be in it", s.Order)
	}
	if es := waitFor[*Start](t, early); es.Seed != s.Seed {
		t.Fatal("spectator got a different start")
	}
	// A player may not join a started room; a spectator may.
	if _, err := Dial(context.Background(), ts.url(room), ClientConfig{}); !isCode(err, CodeRoomStarted) {
		t.Fatalf("want room-started, got %v", err)
	}
	late := dial(t, ts.url(room), ClientConfig{Spectator: true})
	w := late.Welcome()
	if w.Start == nil || w.Start.Seed != s.Seed || len(w.Peers) != 3 {
		t.Fatalf("late spectator welcome %+v", w)
	}
	if pj := waitFor[*PeerJoined](t, a); pj.Peer.ID != late.ID() || pj.Peer.Role != RoleSpectator {
		t.Fatalf("a saw %+v", pj)
	}
	// Players can signal spectators (they feed them inputs over WebRTC).
	send(t, a, late.ID(), `{"candidate":"x"}`)
	if sig := waitFor[*Signal](t, late); sig.From != a.ID() {
		t.Fatalf("late got %+v", sig)
	}
}

func TestPeerLeftReachesEveryone(t *testing.T) {
	ts := startServer(t, Config{})
	room := freshRoom("left")
	var cs []*Client
	for range 3 {
		cs = append(cs, dial(t, ts.url(room), ClientConfig{Players: 3}))
	}
	spec := dial(t, ts.url(room), ClientConfig{Spectator: true})
	leaver := cs[1]
	leaver.Close()
	for _, c := range []*Client{cs[0], cs[2], spec} {
		if pl := waitFor[*PeerLeft](t, c); pl.ID != leaver.ID() {
			t.Fatalf("peer-left %s, want %s", pl.ID, leaver.ID())
		}
	}
	if _, err := leaver.Recv(context.Background()); !errors.Is(err, ErrClosed) {
		t.Fatalf("closed client Recv: %v", err)
	}
}

func TestSignalGoesToExactlyOnePeer(t *testing.T) {
	ts := startServer(t, Config{})
	room := freshRoom("sig")
	a := dial(t, ts.url(room), ClientConfig{Players: 3})
	b := dial(t, ts.url(room), ClientConfig{Players: 3})
	c := dial(t, ts.url(room), ClientConfig{Players: 3})
	for _, x := range []*Client{a, b, c} {
		waitFor[*Start](t, x)
	}
	send(t, a, b.ID(), `{"type":"offer","sdp":"v=0..."}`)
	send(t, a, c.ID(), `"marker"`)
	if s := waitFor[*Signal](t, b); s.From != a.ID() || string(s.Data) != `{"type":"offer","sdp":"v=0..."}` {
		t.Fatalf("b got %+v", s)
	}
	// c's first signal must be the marker: the offer to b never reached it.
	if s := recv(t, c); s.(*Signal).From != a.ID() || string(s.(*Signal).Data) != `"marker"` {
		t.Fatalf("c got %+v", s)
	}
	// Unknown peer and self: non-fatal errors.
	send(t, a, "nobody", `{}`)
	if e := waitFor[*Error](t, a); e.Code != CodeUnknownPeer || e.Fatal {
		t.Fatalf("got %+v", e)
	}
	send(t, a, a.ID(), `{}`)
	if e := waitFor[*Error](t, a); e.Code != CodeBadRequest {
		t.Fatalf("got %+v", e)
	}
	send(t, a, b.ID(), `"still fine"`)
	if s := waitFor[*Signal](t, b); string(s.Data) != `"still fine"` {
		t.Fatalf("b got %+v", s)
	}
	if got := ts.Stats().MessagesRelayed; got != 3 {
		t.Fatalf("relayed %d, want 3", got)
	}
}

func TestResumeWithinGraceKeepsIDAndQueuesSignals(t *testing.T) {
	ts := startServer(t, Config{ResumeGrace: 5 * time.Second})
	room := freshRoom("resume")
	a := dial(t, ts.url(room), ClientConfig{})
	ws, m := rawDial(t, ts.url(room), nil)
	w := m.(*Welcome)
	waitFor[*Start](t, a)
	ws.CloseNow() // an abrupt drop: no close frame
	eventually(t, "peer in grace", func() bool { return ts.Stats().PeersInGrace == 1 })

	send(t, a, w.ID, `{"candidate":"queued"}`)
	ws2, m2 := rawDial(t, ts.url(room+"?resume="+w.ResumeToken), nil)
	w2 := m2.(*Welcome)
	if !w2.Resumed || w2.ID != w.ID || w2.Start == nil || len(w2.Peers) != 1 || w2.Peers[0].ID != a.ID() {
		t.Fatalf("resume welcome %+v", w2)
	}
	if s, ok := rawRead(t, ws2).(*Signal); !ok || string(s.Data) != `{"candidate":"queued"}` {
		t.Fatalf("queued signal not delivered: %+v", s)
	}
	// a never saw peer-left: its next event is the signal we send now.
	rawSend(t, ws2, `{"type":"signal","to":"`+string(a.ID())+`","data":"back"}`)
	if s, ok := recv(t, a).(*Signal); !ok || s.From != w.ID {
		t.Fatalf("a got %+v", s)
	}
	if ts.Stats().Resumes != 1 {
		t.Fatal("resume not counted")
	}
}

func TestGraceExpiryThenPeerLeft(t *testing.T) {
	const grace = 300 * time.Millisecond
	ts := startServer(t, Config{ResumeGrace: grace})
	room := freshRoom("expire")
	a := dial(t, ts.url(room), ClientConfig{})
	ws, m := rawDial(t, ts.url(room), nil)
	w := m.(*Welcome)
	waitFor[*Start](t, a)
	dropped := time.Now()
	ws.CloseNow()
	if pl := waitFor[*PeerLeft](t, a); pl.ID != w.ID {
		t.Fatalf("peer-left %s", pl.ID)
	}
	if since := time.Since(dropped); since < grace {
		t.Fatalf("peer-left after %v, before the grace period of %v ended", since, grace)
	}
	if _, err := Dial(context.Background(), ts.url(room+"?resume="+w.ResumeToken), ClientConfig{}); !isCode(err, CodeBadResume) {
		t.Fatalf("resume after grace: %v", err)
	}
}

func TestClientResumesAutomatically(t *testing.T) {
	ts := startServer(t, Config{ResumeGrace: 5 * time.Second})
	room := freshRoom("auto")
	a := dial(t, ts.url(room), ClientConfig{})
	b := dial(t, ts.url(room), ClientConfig{ResumeBackoff: 10 * time.Millisecond})
	waitFor[*Start](t, a)
	waitFor[*Start](t, b)
	id := b.ID()
	b.mu.Lock()
	b.ws.CloseNow() // simulate the network dropping b's socket
	b.mu.Unlock()
	r := waitFor[*Resumed](t, b)
	if r.Welcome.ID != id || !r.Welcome.Resumed {
		t.Fatalf("resumed as %+v", r.Welcome)
	}
	send(t, b, a.ID(), `"after resume"`)
	if s, ok := recv(t, a).(*Signal); !ok || string(s.Data) != `"after resume"` {
		t.Fatalf("a got %+v (no peer-left may come first)", s)
	}
	send(t, a, id, `"to b"`)
	if s := waitFor[*Signal](t, b); string(s.Data) != `"to b"` {
		t.Fatalf("b got %+v", s)
	}
}

func TestHealthzAndMetrics(t *testing.T) {
	ts := startServer(t, Config{})
	assertRoomWorks(t, ts)
	dial(t, ts.url("/m"), ClientConfig{})
	// The other room's peers leave asynchronously after their close handshakes.
	eventually(t, "one room left", func() bool { st := ts.Stats(); return st.Rooms == 1 && st.Peers == 1 })
	get := func(path string) string {
		resp, err := http.Get(ts.http(path))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %s", path, resp.Status)
		}
		return string(b)
	}
	if got := get("/healthz"); got != "ok\n" {
		t.Fatalf("healthz %q", got)
	}
	body := get("/metrics")
	for _, want := range []string{
		"# TYPE lyn_signaling_rooms gauge\nlyn_signaling_rooms 1\n",
		"lyn_signaling_peers 1\n",
		"lyn_signaling_messages_relayed_total 2\n",
		"lyn_signaling_rooms_started_total 1\n",
		`lyn_signaling_rejects_total{reason="rate-limited"} 0`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q:\n%s", want, body)
		}
	}
}

func TestShutdownClosesEveryConnection(t *testing.T) {
	before := goleak.IgnoreCurrent()
	ts := startServer(t, Config{})
	var cs []*Client
	for i := range 3 {
		room := fmt.Sprintf("/shut-%d", i)
		cs = append(cs, dial(t, ts.url(room), ClientConfig{}), dial(t, ts.url(room), ClientConfig{}))
	}
	ws, _ := rawDial(t, ts.url("/shut-raw"), nil)
	rawClosed := make(chan error, 1)
	go func() {
		for {
			if _, _, err := ws.Read(context.Background()); err != nil {
				rawClosed <- err
				return
			}
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := ts.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	for _, c := range cs {
		if err := waitEnd(t, c); !errors.Is(err, ErrServerGoingAway) {
			t.Fatalf("client ended with %v, want going away", err)
		}
	}
	if err := <-rawClosed; websocket.CloseStatus(err) != websocket.StatusGoingAway {
		t.Fatalf("raw close: %v", err)
	}
	if st := ts.Stats(); st.Connections != 0 {
		t.Fatalf("%d connections left", st.Connections)
	}
	// Every goroutine of the server and of the ended clients is gone; only the test's
	// http.Server accept loop remains until cleanup.
	goleak.VerifyNone(t, before, goleak.IgnoreAnyFunction("net/http.(*Server).Serve"))
	if _, err := Dial(context.Background(), ts.url("/late"), ClientConfig{}); err == nil {
		t.Fatal("dial after shutdown succeeded")
	}
	resp, err := http.Get(ts.http("/healthz"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("healthz after shutdown: %s", resp.Status)
	}
}
